/// Writes one Parquet file: flat schema, v1 data pages (PLAIN, dictionary or DELTA_BINARY_PACKED,
/// chosen per column chunk; see `ParquetWriterOptions`), UNCOMPRESSED or ZSTD.
///
/// Memory is bounded by one row group, plus the encoded chunks of as many columns as it
/// encodes at once. The chunks of a row group are encoded on `encodingThreads` threads; the
/// bytes written do not depend on that number. Not thread-safe: one owner appends, then closes.
public final class ParquetWriter {
    private let columns: [ParquetColumn]
    private let options: ParquetWriterOptions
    private let output: FileOutput
    private let encoders: ChunkEncoderPool
    private var buffers: [ColumnBuffer]
    private var bufferedRows = 0
    private var rowGroups: [ParquetRowGroup] = []
    private var totalRows = 0
    /// The rows the caller expects to append in all, if it said.
    private let expectedRows: Int?
    private enum State { case open, closed, failed }
    private var state = State.open
    /// The file written.
    public let path: String

    /// Creates or truncates `path` and writes the leading magic; the caller handles temp names and renames.
    ///
    /// `expectedRows` is how many rows the caller will append, when it knows: each row group's
    /// buffers are then sized once for their rows. Only a hint; any number of rows may come.
    public init(path: String, columns: [ParquetColumn], options: ParquetWriterOptions = .init(),
                expectedRows: Int? = nil) throws {
        guard !columns.isEmpty else { throw ParquetError("\(path): a Parquet file needs at least one column") }
        var names = Set<String>()
        for column in columns {
            guard !column.name.isEmpty else { throw ParquetError("\(path): a column has an empty name") }
            guard names.insert(column.name).inserted else { throw ParquetError("\(path): column '\(column.name)' appears twice") }
        }
        guard options.rowGroupRows >= 1 else { throw ParquetError("rowGroupRows must be at least 1, not \(options.rowGroupRows)") }
        guard options.pageBytes >= 1 else { throw ParquetError("pageBytes must be at least 1, not \(options.pageBytes)") }
        if case .zstd(let level) = options.compression {
            guard (-131072...22).contains(level) else { throw ParquetError("zstd level \(level) is out of range") }
        }
        guard options.encodingThreads >= 0 else {
            throw ParquetError("encodingThreads must not be negative, not \(options.encodingThreads)")
        }
        self.columns = columns
        self.options = options
        self.expectedRows = expectedRows
        guard options.dictionaryPageBytes >= 0 else {
            throw ParquetError("dictionaryPageBytes must not be negative, not \(options.dictionaryPageBytes)")
        }
        for (name, encoding) in options.columnEncodings.sorted(by: { $0.key < $1.key }) {
            guard let column = columns.first(where: { $0.name == name }) else {
                throw ParquetError("\(path): columnEncodings names '\(name)', which is not a column")
            }
            switch (encoding, column.type) {
            case (.automatic, _), (.plain, _), (.dictionary, .string), (.dictionary, .bytes),
                 (.deltaBinaryPacked, .int32), (.deltaBinaryPacked, .int64):
                break
            default:
                throw ParquetError("\(path): column '\(name)' is \(column.type) and cannot be written \(encoding)")
            }
        }
        self.encoders = try ChunkEncoderPool(options: options)
        self.buffers = columns.map(ColumnBuffer.init)
        self.path = path
        self.output = try FileOutput(path: path)
        try guarded { try output.write(Array("PAR1".utf8)) }
    }

    /// Appends rows: one `ColumnBatch` per column, in schema order, all with the same row count
    /// (0 allowed). Row groups are cut every `rowGroupRows` rows.
    ///
    /// Throws `ParquetError`, writing nothing, if the batch does not match the schema: column
    /// count, value type, row count, validity length, a null in a non-nullable column, malformed
    /// byte array offsets, or an index out of its values' range.
    public func append(_ batch: [ColumnBatch]) throws {
        try checkOpen()
        let rows = try validate(batch)
        var start = 0
        while start < rows {
            let take = min(rows - start, options.rowGroupRows - bufferedRows)
            if bufferedRows == 0, let expectedRows, expectedRows > totalRows {
                let groupRows = min(expectedRows - totalRows, options.rowGroupRows)
                for index in buffers.indices { buffers[index].expect(rows: groupRows) }
            }
            for index in buffers.indices { buffers[index].append(batch[index], rows: start..<start + take) }
            bufferedRows += take
            start += take
            if bufferedRows == options.rowGroupRows { try guarded { try flushRowGroup() } }
        }
    }

    /// Flushes the last row group, writes the footer, fsyncs and closes. A file with no rows
    /// has no row groups.
    @discardableResult
    public func close() throws -> ParquetFileInfo {
        try checkOpen()
        return try guarded {
            try flushRowGroup()
            let metadata = ParquetFileMetadata(
                version: 1,
                schema: [ParquetSchemaElement(name: "schema", numChildren: Int32(columns.count))]
                    + columns.map { $0.type.schemaElement(name: $0.name, nullable: $0.nullable) },
                numRows: Int64(totalRows),
                rowGroups: rowGroups,
                keyValueMetadata: options.keyValueMetadata,
                createdBy: options.createdBy,
                columnOrders: Array(repeating: .typeDefined, count: columns.count))
            let footer = CompactWriter.serialize(metadata)
            try output.write(footer)
            try output.write(PlainEncoder.bytes(of: UInt32(footer.count)) + Array("PAR1".utf8))
            try output.syncAndClose()
            state = .closed
            return ParquetFileInfo(rows: totalRows, rowGroups: rowGroups.count, bytes: output.offset, metadata: metadata)
        }
    }

    private func checkOpen() throws {
        switch state {
        case .open: return
        case .closed: throw ParquetError("\(output.path): the writer is already closed")
        case .failed: throw ParquetError("\(output.path): the writer failed earlier and cannot continue")
        }
    }

    /// Runs `body`, marking the writer failed if it throws.
    private func guarded<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch {
            state = .failed
            throw error
        }
    }

    /// Checks `batch` against the schema and returns its row count.
    private func validate(_ batch: [ColumnBatch]) throws -> Int {
        guard batch.count == columns.count else {
            throw ParquetError("\(output.path): batch has \(batch.count) columns, schema has \(columns.count)")
        }
        let rows = batch[0].count
        for (column, (values, buffer)) in zip(columns, zip(batch, buffers)) {
            let prefix = "\(output.path): column '\(column.name)'"
            guard values.values.fits(column.type) else {
                throw ParquetError("\(prefix) is \(column.type), batch holds \(values.values.kindName)")
            }
            guard values.count == rows else {
                throw ParquetError("\(prefix) has \(values.count) rows, column '\(columns[0].name)' has \(rows)")
            }
            if let validity = values.validity {
                guard validity.count == rows else {
                    throw ParquetError("\(prefix) has \(validity.count) validity flags for \(rows) rows")
                }
                if !column.nullable, let row = validity.firstIndex(of: false) {
                    throw ParquetError("\(prefix) is not nullable but row \(row) of the batch is null")
                }
            }
            switch values.values {
            case .byteArray(let column) where !column.isWellFormed:
                throw ParquetError("\(prefix) has malformed byte array offsets")
            case .indexed(let indexed) where !buffer.holds(indexed.values) && !indexed.values.isWellFormed:
                throw ParquetError("\(prefix) has malformed byte array offsets in its indexed values")
            case .indexed(let indexed):
                let count = indexed.values.count
                if let row = indexed.indices.firstIndex(where: { !(0..<count).contains(Int($0)) }) {
                    throw ParquetError("\(prefix): row \(row) has index \(indexed.indices[row]), out of 0..<\(count)")
                }
            default:
                break
            }
        }
        return rows
    }

    /// Writes the buffered rows as one row group; does nothing when there are none.
    private func flushRowGroup() throws {
        guard bufferedRows > 0 else { return }
        let start = output.offset
        var chunks: [ParquetColumnChunk] = []
        try encoders.encode(buffers) { encoded in
            chunks.append(encoded.placed(at: output.offset))
            try output.write(encoded.bytes)
        }
        for index in buffers.indices { buffers[index].removeAll() }
        let metadata = chunks.compactMap(\.metaData)
        rowGroups.append(ParquetRowGroup(
            columns: chunks,
            totalByteSize: metadata.reduce(0) { $0 + $1.totalUncompressedSize },
            numRows: Int64(bufferedRows),
            fileOffset: Int64(start),
            totalCompressedSize: metadata.reduce(0) { $0 + $1.totalCompressedSize },
            ordinal: Int16(exactly: rowGroups.count)))
        totalRows += bufferedRows
        bufferedRows = 0
    }
}

extension ColumnValues {
    var kindName: String {
        switch self {
        case .int32: "int32 values"
        case .int64: "int64 values"
        case .double: "double values"
        case .byteArray: "byte arrays"
        case .indexed: "indexed byte arrays"
        }
    }
}
