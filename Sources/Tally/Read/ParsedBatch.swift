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
/// trimmed, no UTF-8 validation).
public struct ParsedBatch: Sendable {
    /// The records that were parsed (for locations and raw bytes).
    public let records: RecordBatch
    /// Every field's bytes, one after the other.
    public let fieldBytes: [UInt8]
    /// Field `k` of the batch spans `fieldEnds[k]..<fieldEnds[k + 1]` (a leading 0).
    let fieldEnds: [Int]
    /// Record `r`'s fields are `firstField[r]..<firstField[r + 1]` (count + 1 entries).
    let firstField: [Int]
    /// The bad records, by record number.
    let problems: [Int: RecordProblem]

    init(records: RecordBatch, fieldBytes: [UInt8], fieldEnds: [Int], firstField: [Int],
         problems: [Int: RecordProblem]) {
        precondition(firstField.count == records.count + 1)
        self.records = records
        self.fieldBytes = fieldBytes
        self.fieldEnds = fieldEnds
        self.firstField = firstField
        self.problems = problems
    }

    /// The number of records (good and bad).
    public var count: Int { records.count }

    /// The number of bad records.
    public var problemCount: Int { problems.count }

    /// The number of fields of record `record`; 0 for a bad record.
    public func fieldCount(ofRecord record: Int) -> Int {
        firstField[record + 1] - firstField[record]
    }

    /// The range in `fieldBytes` of field `field` of record `record`.
    public func fieldRange(_ field: Int, ofRecord record: Int) -> Range<Int> {
        let index = firstField[record] + field
        precondition(field >= 0 && index < firstField[record + 1], "field out of range")
        return fieldEnds[index]..<fieldEnds[index + 1]
    }

    /// The bytes of field `field` of record `record`.
    public func field(_ field: Int, ofRecord record: Int) -> ArraySlice<UInt8> {
        fieldBytes[fieldRange(field, ofRecord: record)]
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
