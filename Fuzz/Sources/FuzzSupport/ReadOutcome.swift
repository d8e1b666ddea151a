import Tally

/// Everything the read stage makes of one file: the header, each record with its fields as
/// both field parsers split them, and the error that stopped it, if any.
///
/// Two reads of the same bytes must give equal outcomes whatever the read, chunk and batch
/// sizes (the framer's contract) — except that the records before an error may differ, so a
/// failed read keeps only the error's kind.
public struct ReadOutcome: Equatable, CustomStringConvertible {
    public struct Record: Equatable {
        public var line: Int
        public var byteOffset: Int64
        public var bytes: [UInt8]
        /// The fields, or nil for a bad record.
        public var fields: [[UInt8]]?
        public var problem: RecordProblem?
    }

    public var header: Header?
    public var records: [Record] = []
    public var lineCount = 0
    /// The kind of the error that ended the read (`TallyError.Kind` as text), or nil.
    public var failure: String?

    public var description: String {
        if let failure { return "failed: \(failure)" }
        let shown = records.prefix(20).map { record in
            "\(record.line)@\(record.byteOffset) \(String(decoding: record.bytes, as: UTF8.self).debugDescription)"
                + (record.problem.map { " [\($0.reason), column \($0.column ?? 0)]" } ?? " \(record.fields!.count) fields")
        }
        return "header \(header?.names.description ?? "none"), \(records.count) records, \(lineCount) lines\n"
            + shown.joined(separator: "\n")
    }

    /// Reads `file` to the end with `options`, parsing every batch with libcsv and with the
    /// direct splitter and trapping when they disagree. Never throws: an error is the outcome.
    public static func read(_ file: InputFile, options: RecordReader.Options) -> ReadOutcome {
        var outcome = ReadOutcome()
        do {
            let reader = try RecordReader(file: file, fileIndex: 0, options: options)
            outcome.header = try reader.header()
            let direct = CSVFieldParser(delimiter: options.delimiter)
            let libcsv = CSVFieldParser(delimiter: options.delimiter, splitsUnquotedRecordsDirectly: false)
            while let batch = try reader.next() {
                precondition(batch.count > 0, "a batch without records")
                let parsed = try direct.parse(batch)
                let reference = try libcsv.parse(batch)
                precondition(parsed.count == batch.count && reference.count == batch.count)
                for index in 0..<batch.count {
                    let fields = fields(of: index, in: parsed)
                    let problem = parsed.problem(ofRecord: index)
                    let referenceFields = Self.fields(of: index, in: reference)
                    let referenceProblem = reference.problem(ofRecord: index)
                    precondition(fields == referenceFields && problem == referenceProblem,
                                 "the direct splitter and libcsv disagree on line \(batch.line(ofRecord: index))")
                    outcome.records.append(Record(
                        line: batch.line(ofRecord: index), byteOffset: batch.byteOffset(ofRecord: index),
                        bytes: Array(batch.bytes[batch.range(ofRecord: index)]), fields: fields, problem: problem))
                }
            }
            let after = try reader.next()
            precondition(after == nil, "a batch after the file's end")
            outcome.lineCount = reader.lineCount
        } catch let error as TallyError {
            outcome = ReadOutcome(failure: "\(error.kind)")
        } catch {
            outcome = ReadOutcome(failure: "\(type(of: error))")
        }
        return outcome
    }

    /// Record `index`'s fields, reading every byte of each; nil for a bad record.
    private static func fields(of index: Int, in batch: ParsedBatch) -> [[UInt8]]? {
        if batch.problem(ofRecord: index) != nil {
            precondition(batch.fieldCount(ofRecord: index) == 0, "a bad record has fields")
            return nil
        }
        return (0..<batch.fieldCount(ofRecord: index)).map { Array(batch.field($0, ofRecord: index)) }
    }
}

/// Reads the bytes in `scratch` as a CSV file (`isZstd` says how) twice, with the default sizes
/// and with tiny ones, and traps when the outcomes differ. `delimiter` and `header` as in
/// `RecordReader.Options`.
public func readTwice(_ scratch: ScratchFile, count: Int, isZstd: Bool, delimiter: UInt8, header: Bool) {
    let file = InputFile(path: scratch.path, displayPath: "input", relativePath: "input",
                         size: Int64(count), isZstd: isZstd)
    let whole = ReadOutcome.read(file, options: .init(delimiter: delimiter, header: header))
    let small = ReadOutcome.read(file, options: .init(delimiter: delimiter, header: header,
                                                      targetBatchBytes: 5, readSize: 3, chunkSize: 7))
    if whole != small {
        fatalError("default and tiny sizes read differently:\n--- default\n\(whole)\n--- tiny\n\(small)")
    }
}
