internal import CCSV
#if canImport(Glibc)
import Glibc
#endif

/// Splits records into fields with libcsv in strict mode, one record at a time.
///
/// One `csv_parser`, created in `init` and freed in `deinit`. Not thread-safe: give each worker
/// its own. Options: `CSV_STRICT | CSV_STRICT_FINI`, no trimming (the space function answers 0),
/// no `CSV_APPEND_NULL`. The corresponding C functions are `csv_parse` and `csv_fini`.
public final class CSVFieldParser {
    private static let quote: UInt8 = 0x22
    private static let options = UInt8(CSV_STRICT | CSV_STRICT_FINI)
    private static let minimumBlockSize = 64 << 10

    private let parser: UnsafeMutablePointer<csv_parser>
    private let state: UnsafeMutablePointer<State>
    private var blockSize = CSVFieldParser.minimumBlockSize
    /// The field delimiter.
    public let delimiter: UInt8
    /// Whether records without a quote byte are split without libcsv (the results are identical;
    /// tests turn it off to compare).
    public let splitsUnquotedRecordsDirectly: Bool

    /// What the callbacks write to, reached through `void *data`. The callbacks only append,
    /// so they cannot fail and nothing needs to be stashed for rethrowing.
    private struct State {
        var fieldBytes: [UInt8] = []
        var fieldEnds: [Int] = [0]
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
        state.initialize(to: State())
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
        state.pointee.fieldBytes.reserveCapacity(batch.bytes.count)
        state.pointee.fieldEnds.reserveCapacity(batch.count * 4 + 1)
        var firstField = [Int]()
        firstField.reserveCapacity(batch.count + 1)
        var problems: [Int: RecordProblem] = [:]
        try batch.bytes.withUnsafeBytes { all in
            for record in 0..<batch.count {
                firstField.append(state.pointee.fieldEnds.count - 1)
                let bytes = UnsafeRawBufferPointer(rebasing: all[batch.range(ofRecord: record)])
                if let problem = try parseRecord(bytes) { problems[record] = problem }
            }
        }
        firstField.append(state.pointee.fieldEnds.count - 1)
        let parsed = ParsedBatch(records: batch, fieldBytes: state.pointee.fieldBytes,
                                 fieldEnds: state.pointee.fieldEnds, firstField: firstField,
                                 problems: problems)
        state.pointee.fieldBytes = []
        state.pointee.fieldEnds = [0]
        return parsed
    }

    /// Parses one record on its own: its fields, or why it is bad.
    public func fields(of record: UnsafeRawBufferPointer) throws -> Result<[[UInt8]], RecordProblem> {
        defer {
            state.pointee.fieldBytes.removeAll(keepingCapacity: true)
            state.pointee.fieldEnds.removeAll(keepingCapacity: true)
            state.pointee.fieldEnds.append(0)
        }
        if let problem = try parseRecord(record) { return .failure(problem) }
        let ends = state.pointee.fieldEnds, bytes = state.pointee.fieldBytes
        return .success((0..<ends.count - 1).map { Array(bytes[ends[$0]..<ends[$0 + 1]]) })
    }

    /// Appends `record`'s fields to `state`; on a problem, removes what it appended.
    private func parseRecord(_ record: UnsafeRawBufferPointer) throws -> RecordProblem? {
        if splitsUnquotedRecordsDirectly, let start = record.baseAddress,
           memchr(start, Int32(Self.quote), record.count) == nil {
            splitUnquoted(record)
            return nil
        }
        let fieldsBefore = state.pointee.fieldEnds.count, bytesBefore = state.pointee.fieldBytes.count
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
            let column = state.pointee.fieldEnds.count - fieldsBefore + 1
            problem = record[consumed] == Self.quote
                ? RecordProblem(reason: "quote in unquoted field", column: column)
                : RecordProblem(reason: "unexpected character after closing quote", column: column)
        } else if csv_fini(parser, Self.fieldCallback, Self.rowCallback, UnsafeMutableRawPointer(state)) != 0 {
            let column = state.pointee.fieldEnds.count - fieldsBefore + 1
            problem = RecordProblem(reason: "unterminated quoted field", column: column)
        }
        if problem != nil {
            reset()
            state.pointee.fieldBytes.removeSubrange(bytesBefore...)
            state.pointee.fieldEnds.removeSubrange(fieldsBefore...)
        }
        return problem
    }

    /// The fast path for a record without quotes: every delimiter ends a field.
    private func splitUnquoted(_ record: UnsafeRawBufferPointer) {
        guard let start = record.baseAddress else { return state.pointee.fieldEnds.append(state.pointee.fieldBytes.count) }
        var index = 0
        while true {
            let end = memchr(start + index, Int32(delimiter), record.count - index)
                .map { UnsafeRawPointer($0) - start } ?? record.count
            state.pointee.fieldBytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: record[index..<end]))
            state.pointee.fieldEnds.append(state.pointee.fieldBytes.count)
            if end == record.count { return }
            index = end + 1
        }
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
            state.pointee.fieldBytes.append(contentsOf: UnsafeRawBufferPointer(start: field, count: length))
        }
        state.pointee.fieldEnds.append(state.pointee.fieldBytes.count)
    }

    private static let rowCallback: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, _ in }
}

@available(*, unavailable, message: "give each worker its own CSVFieldParser")
extension CSVFieldParser: Sendable {}
