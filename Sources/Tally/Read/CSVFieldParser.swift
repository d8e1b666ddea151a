internal import CCSV
#if canImport(Glibc)
import Glibc
#endif

/// Splits records into fields: records without a quote byte directly (8 bytes at a time, the
/// fields left where they are in the batch), the others with libcsv in strict mode.
///
/// One `csv_parser`, created in `init` and freed in `deinit`. Not thread-safe: give each worker
/// its own. libcsv options: `CSV_STRICT | CSV_STRICT_FINI`, no trimming (the space function
/// answers 0), no `CSV_APPEND_NULL`. The corresponding C functions are `csv_parse` and
/// `csv_fini`. The direct split gives exactly what libcsv gives for a record without quotes
/// (every delimiter ends a field, nothing is trimmed); the tests check this on random input.
public final class CSVFieldParser {
    private static let quote: UInt8 = 0x22
    private static let options = UInt8(CSV_STRICT | CSV_STRICT_FINI)
    private static let minimumBlockSize = 64 << 10

    private let parser: UnsafeMutablePointer<csv_parser>
    private let state: UnsafeMutablePointer<State>
    private var blockSize = CSVFieldParser.minimumBlockSize
    /// Where the offset tables come from; they come back when the parsed batches go.
    private let pool = BufferPool()
    /// The field delimiter.
    public let delimiter: UInt8
    /// Whether records without a quote byte are split without libcsv (the results are identical;
    /// tests turn it off to compare).
    public let splitsUnquotedRecordsDirectly: Bool

    /// What the callbacks write to, reached through `void *data`. The callbacks only append,
    /// so they cannot fail and nothing needs to be stashed for rethrowing.
    private struct State {
        /// Unescaped fields, each followed by one gap byte (the delimiter).
        var side: [UInt8] = []
        /// Where `side[0]` is in the parsed batch's `fieldBytes`.
        var sideBase = 0
        /// For each field of the record being parsed: its end in `fieldBytes`, plus one.
        var fieldEnds: [Int] = []
        var delimiter: UInt8 = 0x2C
    }

    /// - Parameters:
    ///   - delimiter: one byte; neither `"`, CR nor LF.
    ///   - splitsUnquotedRecordsDirectly: the fast path for records without a quote byte.
    public init(delimiter: UInt8 = 0x2C, splitsUnquotedRecordsDirectly: Bool = true) {
        precondition(delimiter != Self.quote && delimiter != 0x0A && delimiter != 0x0D)
        self.delimiter = delimiter
        self.splitsUnquotedRecordsDirectly = splitsUnquotedRecordsDirectly
        parser = .allocate(capacity: 1)
        state = .allocate(capacity: 1)
        state.initialize(to: State(delimiter: delimiter))
        configure()
    }

    deinit {
        csv_free(parser)
        parser.deallocate()
        state.deinitialize(count: 1)
        state.deallocate()
    }

    /// Parses every record of `batch`. Bad records get a `RecordProblem` and parsing goes on with
    /// the next record. Throws only when libcsv runs out of memory.
    public func parse(_ batch: RecordBatch) throws -> ParsedBatch {
        let count = batch.count
        var recordBase = UInt32ColumnBuilder(capacity: count + 1, pool: pool)
        var bounds = UInt32ColumnBuilder(capacity: count * 6 + 16, pool: pool)
        var problems: [Int: RecordProblem] = [:]
        state.pointee.side.removeAll(keepingCapacity: true)
        state.pointee.sideBase = batch.bytes.count
        let spans = batch.spans.storage.base.assumingMemoryBound(to: UInt32.self)
        try batch.bytes.withUnsafeBytes { all in
            let base = all.baseAddress!
            let direct = splitsUnquotedRecordsDirectly
            if direct && memchr(base, Int32(Self.quote), all.count) == nil {
                Self.splitUnquoted(base, spans: spans, records: 0..<count, delimiter: delimiter,
                                   bounds: &bounds, recordBase: &recordBase)
                return
            }
            for record in 0..<count {
                let start = Int(spans[2 * record]), end = Int(spans[2 * record + 1])
                if direct && memchr(base + start, Int32(Self.quote), end - start) == nil {
                    Self.splitUnquoted(base, spans: spans, records: record..<record + 1, delimiter: delimiter,
                                       bounds: &bounds, recordBase: &recordBase)
                    continue
                }
                recordBase.reserve(1)
                recordBase.append(bounds.count)
                let fieldsStart = state.pointee.sideBase + state.pointee.side.count
                let problem = try parseWithLibcsv(UnsafeRawBufferPointer(start: base + start, count: end - start))
                bounds.reserve(state.pointee.fieldEnds.count + 1)
                bounds.append(fieldsStart)
                if let problem {
                    problems[record] = problem
                } else {
                    for end in state.pointee.fieldEnds { bounds.append(end) }
                }
            }
        }
        recordBase.reserve(1)
        recordBase.append(bounds.count)
        return ParsedBatch(records: batch, fieldBytes: fieldBytes(of: batch), bounds: bounds.column,
                           recordBase: recordBase.column, problems: problems)
    }

    /// The batch's bytes, followed by the unescaped fields when there are any.
    private func fieldBytes(of batch: RecordBatch) -> BatchBytes {
        let side = state.pointee.side
        guard !side.isEmpty else { return batch.bytes }
        let total = batch.bytes.count + side.count
        // Field offsets are 32-bit: batches stay far below (records ≤ 256 MiB, targets ≤ 64 MiB).
        precondition(total <= Int(UInt32.max), "batch too large for 32-bit field offsets")
        let storage = ByteStorage(capacity: total)
        batch.bytes.withUnsafeBytes { storage.base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        side.withUnsafeBytes { (storage.base + batch.bytes.count).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return BatchBytes(storage, count: total)
    }

    /// Splits `records` (none holds a quote) of the batch at `base`: every delimiter ends a
    /// field. Reads 8 bytes at a time, up to 7 bytes past a record (the buffers are padded).
    @inline(__always)
    private static func splitUnquoted(_ base: UnsafeRawPointer, spans: UnsafePointer<UInt32>, records: Range<Int>,
                                      delimiter: UInt8, bounds: inout UInt32ColumnBuilder,
                                      recordBase: inout UInt32ColumnBuilder) {
        let pattern = UInt64(delimiter) &* 0x0101_0101_0101_0101
        recordBase.reserve(records.count)
        var out = bounds.pointer, used = bounds.count, room = bounds.capacity
        var bases = recordBase.pointer + recordBase.count
        recordBase.count += records.count
        for record in records {
            let start = Int(spans[2 &* record]), end = Int(spans[2 &* record &+ 1])
            // At most one entry per byte, plus the start and the last end.
            if used &+ (end &- start) &+ 2 > room {
                bounds.count = used
                bounds.reserve(end - start + 2)
                out = bounds.pointer
                room = bounds.capacity
            }
            bases.pointee = UInt32(truncatingIfNeeded: used)
            bases += 1
            out[used] = UInt32(truncatingIfNeeded: start)
            used &+= 1
            var position = start
            while position &+ 8 <= end {
                emit(zeroBytes(word(base, position) ^ pattern), after: position, into: out, &used)
                position &+= 8
            }
            if position < end {
                let inRecord: UInt64 = (1 &<< (UInt64(end &- position) &<< 3)) &- 1
                emit(zeroBytes(word(base, position) ^ pattern) & inRecord, after: position, into: out, &used)
            }
            out[used] = UInt32(truncatingIfNeeded: end &+ 1)
            used &+= 1
        }
        bounds.count = used
    }

    /// The 8 bytes at `position`, the first in the lowest byte.
    @inline(__always)
    private static func word(_ base: UnsafeRawPointer, _ position: Int) -> UInt64 {
        UInt64(littleEndian: base.loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }

    /// Appends, for each byte flagged in `matches` (high bits) of the word at `position`, the
    /// position after it.
    @inline(__always)
    private static func emit(_ matches: UInt64, after position: Int, into out: UnsafeMutablePointer<UInt32>,
                             _ used: inout Int) {
        var matches = matches
        let next = UInt32(truncatingIfNeeded: position &+ 1)
        while matches != 0 {
            out[used] = next &+ UInt32(truncatingIfNeeded: matches.trailingZeroBitCount &>> 3)
            used &+= 1
            matches &= matches &- 1
        }
    }

    /// The high bit of each byte of `word` that is zero, and nothing else.
    @inline(__always)
    private static func zeroBytes(_ word: UInt64) -> UInt64 {
        let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        return ~(((word & low7) &+ low7) | word | low7)
    }

    /// Parses one record on its own: its fields, or why it is bad.
    public func fields(of record: UnsafeRawBufferPointer) throws -> Result<[[UInt8]], RecordProblem> {
        defer { state.pointee.side.removeAll(keepingCapacity: true) }
        state.pointee.side.removeAll(keepingCapacity: true)
        state.pointee.sideBase = 0
        if let problem = try parseWithLibcsv(record) { return .failure(problem) }
        let side = state.pointee.side
        var start = 0
        return .success(state.pointee.fieldEnds.map { end in
            defer { start = end }
            return Array(side[start..<end - 1])
        })
    }

    /// Appends `record`'s unescaped fields to `state.side` and sets `state.fieldEnds`; on a
    /// problem, takes back what it appended.
    private func parseWithLibcsv(_ record: UnsafeRawBufferPointer) throws -> RecordProblem? {
        state.pointee.fieldEnds.removeAll(keepingCapacity: true)
        let sideBefore = state.pointee.side.count
        if record.count > blockSize {
            blockSize = record.count
            csv_set_blk_size(parser, blockSize)
        }
        let consumed = csv_parse(parser, record.baseAddress, record.count,
                                 Self.fieldCallback, Self.rowCallback, UnsafeMutableRawPointer(state))
        var problem: RecordProblem?
        if consumed < record.count {
            let code = csv_error(parser)
            guard code == CSV_EPARSE else {
                reset()
                throw TallyError(.io, stage: .read, "libcsv: \(String(cString: csv_strerror(code)))")
            }
            let column = state.pointee.fieldEnds.count + 1
            problem = record[consumed] == Self.quote
                ? RecordProblem(reason: "quote in unquoted field", column: column)
                : RecordProblem(reason: "unexpected character after closing quote", column: column)
        } else if csv_fini(parser, Self.fieldCallback, Self.rowCallback, UnsafeMutableRawPointer(state)) != 0 {
            let column = state.pointee.fieldEnds.count + 1
            problem = RecordProblem(reason: "unterminated quoted field", column: column)
        }
        if problem != nil {
            reset()
            state.pointee.side.removeSubrange(sideBefore...)
            state.pointee.fieldEnds.removeAll(keepingCapacity: true)
        }
        return problem
    }

    /// Puts the parser back in its initial state (after a parse error `csv_fini` leaves it as is).
    private func reset() {
        csv_free(parser)
        configure()
    }

    private func configure() {
        guard csv_init(parser, Self.options) == 0 else { fatalError("csv_init failed") }
        csv_set_delim(parser, delimiter)
        csv_set_space_func(parser, Self.noSpace)
        csv_set_blk_size(parser, blockSize)
    }

    private static let noSpace: @convention(c) (UInt8) -> Int32 = { _ in 0 }

    private static let fieldCallback: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Void = {
        field, length, data in
        let state = data!.assumingMemoryBound(to: State.self)
        if length > 0, let field {
            state.pointee.side.append(contentsOf: UnsafeRawBufferPointer(start: field, count: length))
        }
        state.pointee.side.append(state.pointee.delimiter)
        state.pointee.fieldEnds.append(state.pointee.sideBase + state.pointee.side.count)
    }

    private static let rowCallback: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, _ in }
}

@available(*, unavailable, message: "give each worker its own CSVFieldParser")
extension CSVFieldParser: Sendable {}
