/// Why a record is bad, as the CSV parser found it.
public struct RecordProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// For example `unterminated quoted field`, `quote in unquoted field`.
    public var reason: String
    /// 1-based field number where it happened, when known.
    public var column: Int?

    public init(reason: String, column: Int? = nil) {
        self.reason = reason
        self.column = column
    }

    public var description: String { reason }
}

/// The fields of every record of a `RecordBatch`: one byte buffer plus offsets.
///
/// A value that crosses threads. Record and field numbers are 0-based. A bad record has no
/// fields and a `problem`. Field bytes are unquoted and unescaped, otherwise verbatim (no spaces
/// trimmed, no UTF-8 validation). Fields without quotes are not copied: `fieldBytes` is then the
/// batch's own bytes, and a field's range is where it is in the record. Quoted fields are
/// unescaped into bytes appended after the batch's (then `fieldBytes` is a copy of both).
public struct ParsedBatch: Sendable {
    /// The records that were parsed (for locations and raw bytes).
    public let records: RecordBatch
    /// Every field's bytes, found with `fieldRange(_:ofRecord:)`.
    public let fieldBytes: BatchBytes
    /// Record `r`'s entries are `bounds[recordBase[r]..<recordBase[r + 1]]`: the start of its
    /// first field, then one past the end of each field plus one (where the next field starts).
    let bounds: UInt32Column
    /// count + 1 entries.
    let recordBase: UInt32Column
    /// The bad records, by record number.
    let problems: [Int: RecordProblem]

    init(records: RecordBatch, fieldBytes: BatchBytes, bounds: UInt32Column, recordBase: UInt32Column,
         problems: [Int: RecordProblem]) {
        precondition(recordBase.count == records.count + 1)
        precondition(recordBase[records.count] == bounds.count)
        self.records = records
        self.fieldBytes = fieldBytes
        self.bounds = bounds
        self.recordBase = recordBase
        self.problems = problems
    }

    /// The number of records (good and bad).
    public var count: Int { records.count }

    /// The number of bad records.
    public var problemCount: Int { problems.count }

    /// The number of fields of record `record`; 0 for a bad record.
    @inline(__always)
    public func fieldCount(ofRecord record: Int) -> Int {
        recordBase[record + 1] - recordBase[record] - 1
    }

    /// The range in `fieldBytes` of field `field` of record `record`.
    @inline(__always)
    public func fieldRange(_ field: Int, ofRecord record: Int) -> Range<Int> {
        precondition(record >= 0 && record < count, "record out of range")
        let entries = recordBase.storage.base.assumingMemoryBound(to: UInt32.self)
        let first = Int(entries[record])
        precondition(field >= 0 && field < Int(entries[record + 1]) - first - 1, "field out of range")
        // In range: recordBase[record + 1] <= bounds.count, checked when built.
        let starts = bounds.storage.base.assumingMemoryBound(to: UInt32.self) + first + field
        return Int(starts[0])..<Int(starts[1]) - 1
    }

    /// Calls `body` with a view of every field as a buffer pointer, the storage's addresses
    /// taken once (for hot loops: no `Range`, no rebased slice per field). The pointers are
    /// valid only during the call.
    public func withFields<Result>(_ body: (Fields) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) {
            try body(Fields(bytes: UnsafeRawPointer(fieldBytes.storage.base),
                            bounds: UnsafePointer(bounds.storage.base.assumingMemoryBound(to: UInt32.self)),
                            recordBase: UnsafePointer(recordBase.storage.base.assumingMemoryBound(to: UInt32.self)),
                            count: count))
        }
    }

    /// The fields of a `ParsedBatch`, inside `withFields`.
    public struct Fields {
        let bytes: UnsafeRawPointer
        let bounds: UnsafePointer<UInt32>
        let recordBase: UnsafePointer<UInt32>
        /// The number of records.
        public let count: Int

        /// The number of fields of record `record`; 0 for a bad record.
        @inline(__always)
        public func fieldCount(ofRecord record: Int) -> Int {
            precondition(record >= 0 && record < count, "record out of range")
            return Int(recordBase[record + 1]) - Int(recordBase[record]) - 1
        }

        /// Field `field` of record `record`.
        @inline(__always)
        public func field(_ field: Int, ofRecord record: Int) -> UnsafeRawBufferPointer {
            precondition(record >= 0 && record < count, "record out of range")
            let first = Int(recordBase[record])
            precondition(field >= 0 && field < Int(recordBase[record + 1]) - first - 1, "field out of range")
            let start = Int(bounds[first + field]), end = Int(bounds[first + field + 1]) - 1
            return UnsafeRawBufferPointer(start: bytes + start, count: end - start)
        }
    }

    /// The bytes of field `field` of record `record` (a copy).
    public func field(_ field: Int, ofRecord record: Int) -> ArraySlice<UInt8> {
        ArraySlice(fieldBytes[fieldRange(field, ofRecord: record)])
    }

    /// Why record `record` is bad, or nil when it parsed.
    public func problem(ofRecord record: Int) -> RecordProblem? {
        problems.isEmpty ? nil : problems[record]
    }

    /// The bad records' numbers, ascending.
    public var badRecords: [Int] { problems.keys.sorted() }

    /// The `.badInput` error for bad record `record` (nil when it parsed), located at its line,
    /// column and byte offset in the file shown as `path`: `path:line:column: error: [read] reason`.
    public func error(ofRecord record: Int, path: String) -> TallyError? {
        guard let problem = problem(ofRecord: record) else { return nil }
        return TallyError(.badInput, stage: .read,
                          at: records.location(ofRecord: record, path: path, column: problem.column),
                          problem.reason)
    }
}
