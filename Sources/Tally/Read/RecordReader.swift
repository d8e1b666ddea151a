/// Reads one input file sequentially: decompression, framing and the header.
///
/// Drive it on one thread (the reader thread): `header()` once if you need the column names,
/// then `next()` until it returns nil; send the batches to workers, each of which parses them
/// with its own `CSVFieldParser`. The batches come in file order; a file without records
/// yields none. With `header: true` the header record is not in any batch. The stream is
/// decompressed straight into the batches' buffers, which come from a pool and go back to it when
/// the last copy of a batch (or of a `ParsedBatch` made from it) goes away, on any thread.
/// Memory is bounded by `readSize` plus about two batches here, and the pool's few buffers.
/// Not thread-safe.
public final class RecordReader {
    /// How to read the files.
    public struct Options: Sendable {
        /// The field delimiter, one byte; neither `"`, CR nor LF.
        public var delimiter: UInt8
        /// Whether the first record of each file names the columns.
        public var header: Bool
        /// Minimum record bytes per batch, except for a file's last batch (1 byte to 64 MiB).
        public var targetBatchBytes: Int
        /// Compressed bytes read from a zstd file at a time (≥ 1); plain files are read straight
        /// into the batch buffers, `chunkSize` bytes at a time.
        public var readSize: Int
        /// Largest piece decompressed at once into a batch's buffer (≥ 1); about this much is
        /// copied again at each cut between batches.
        public var chunkSize: Int
        /// The longest record accepted, in bytes (line end excluded); at most 256 MiB.
        var maximumRecordBytes = RecordFramer.maximumRecordBytes

        public init(delimiter: UInt8 = 0x2C, header: Bool = true, targetBatchBytes: Int = 1 << 20,
                    readSize: Int = 1 << 20, chunkSize: Int = 64 << 10) {
            self.delimiter = delimiter
            self.header = header
            self.targetBatchBytes = targetBatchBytes
            self.readSize = readSize
            self.chunkSize = chunkSize
        }

        /// The delimiter and header setting of a pipeline's input, with default sizes.
        public init(_ input: Pipeline.Input) {
            self.init(delimiter: input.delimiter, header: input.header)
        }
    }

    /// The file being read.
    public let file: InputFile
    /// Its 0-based position in the input list, stamped on each batch.
    public let fileIndex: Int
    public let options: Options

    private let source: DecompressedBytes
    private let framer: RecordFramer
    private var ended = false
    private var failure: (any Error)?
    private var parsedHeader: Header??

    /// Opens `file`. Throws `.io` when it cannot be opened, `.config` when the delimiter is `"`,
    /// CR or LF, `.usage` when a size is below 1 or the batch size above 64 MiB.
    public init(file: InputFile, fileIndex: Int, options: Options = Options()) throws {
        guard ![0x22, 0x0A, 0x0D].contains(options.delimiter) else {
            throw TallyError(.config, stage: .read, "the delimiter cannot be a quote, CR or LF")
        }
        guard min(options.targetBatchBytes, options.readSize, options.chunkSize) >= 1 else {
            throw TallyError(.usage, stage: .read, "batch, read and chunk sizes must be at least 1 byte")
        }
        guard options.targetBatchBytes <= RecordFramer.maximumTargetBytes else {
            throw TallyError(.usage, stage: .read, "the batch size must be at most 64 MiB")
        }
        self.file = file
        self.fileIndex = fileIndex
        self.options = options
        source = try DecompressedBytes(file, readSize: options.readSize)
        framer = RecordFramer(fileIndex: fileIndex, targetBytes: options.targetBatchBytes,
                              delimiter: options.delimiter, holdsHeader: options.header,
                              chunkSize: options.chunkSize, maximumRecordBytes: options.maximumRecordBytes)
    }

    /// Records put into batches so far (the header excluded).
    public var recordCount: Int { framer.recordCount }
    /// Physical lines read so far; after the last batch, the file's number of lines.
    public var lineCount: Int { framer.lineCount }

    /// The file's header: nil with `header: false`, or when the file has no record at all
    /// (empty, or only a byte-order mark and blank lines). Reads as far as the first record.
    ///
    /// Throws `.badInput` at the header's location when it is not valid CSV, and what `next()`
    /// throws.
    public func header() throws -> Header? {
        if let parsedHeader { return parsedHeader }
        guard options.header else { parsedHeader = .some(nil); return nil }
        while framer.header == nil && !ended { try pump() }
        guard let record = framer.header else { parsedHeader = .some(nil); return nil }
        let parser = CSVFieldParser(delimiter: options.delimiter)
        let result = try record.bytes.withUnsafeBytes { try parser.fields(of: $0) }
        switch result {
        case .success(let fields):
            let header = Header(names: fields.map { String(decoding: $0, as: UTF8.self) }, line: record.line)
            parsedHeader = header
            return header
        case .failure(let problem):
            throw TallyError(.badInput, stage: .read,
                             at: InputLocation(path: file.displayPath, line: record.line,
                                               column: problem.column, byteOffset: record.byteOffset),
                             "bad header: \(problem.reason)")
        }
    }

    /// The 0-based field positions of `columns` in this file (see `ColumnPositions.resolve`), or
    /// nil when the file has no header because it has no record (then it has no rows either).
    public func columnPositions(_ columns: [Pipeline.ColumnRef]) throws -> [Int]? {
        let header = try header()
        if options.header && header == nil { return nil }
        return try ColumnPositions.resolve(columns, header: header, path: file.displayPath)
    }

    /// The next batch of records, or nil after the last one.
    ///
    /// Throws `.badInput` (exit 65) for a truncated or corrupt zstd file or trailing bytes after
    /// its last frame, naming the file and the compressed byte offset, or for a record longer
    /// than 256 MiB, at its line and byte offset; `.io` (74) when reading fails. After an error
    /// every call throws it again.
    public func next() throws -> RecordBatch? {
        if options.header && parsedHeader == nil { _ = try header() }
        while framer.readyCount == 0 && !ended { try pump() }
        guard var batch = framer.takeBatch() else { return nil }
        batch.fileFraction = file.size > 0 ? min(1, Double(source.bytesConsumed) / Double(file.size)) : 1
        return batch
    }

    private func pump() throws {
        if let failure { throw failure }
        do {
            let room = try framer.space(atMost: options.chunkSize)
            let count = try source.read(into: room)
            if count > 0 {
                try framer.commit(count)
            } else {
                try framer.finish()
                ended = true
            }
        } catch let error as RecordTooLong {
            failure = TallyError(.badInput, stage: .read,
                                 at: InputLocation(path: file.displayPath, line: error.line, byteOffset: error.byteOffset),
                                 "record longer than \(error.limit) bytes")
            throw failure!
        } catch {
            failure = error
            throw error
        }
    }
}

@available(*, unavailable, message: "a RecordReader belongs to one thread")
extension RecordReader: Sendable {}
