/// Encodes one buffered column as a column chunk of PLAIN data pages (v1) and writes it.
struct ColumnChunkWriter {
    let compression: ParquetWriterOptions.Compression
    let pageBytes: Int
    let compressor: ZstdCompressor?
    /// Reused page buffers.
    var body: [UInt8] = []
    var compressed: [UInt8] = []

    var codec: ParquetCodec {
        compression == .none ? .uncompressed : .zstd
    }

    /// Writes `buffer`'s rows at the output's current offset and returns the chunk's metadata.
    mutating func write(_ buffer: ColumnBuffer, to output: FileOutput) throws -> ParquetColumnChunk {
        let column = buffer.column
        let chunkStart = output.offset
        var uncompressedTotal = 0, compressedTotal = 0
        for rows in pageRanges(buffer) {
            encodePage(buffer, rows: rows)
            var stored = body
            if case .zstd(let level) = compression, let compressor {
                try compressor.compress(body, level: level, into: &compressed)
                stored = compressed
            }
            guard let uncompressedSize = Int32(exactly: body.count), let storedSize = Int32(exactly: stored.count) else {
                throw ParquetError("column '\(column.name)': a page of \(body.count) bytes exceeds 2 GiB")
            }
            let header = PageHeader(type: .dataPage, uncompressedPageSize: uncompressedSize,
                                    compressedPageSize: storedSize,
                                    dataPageHeader: DataPageHeader(numValues: Int32(rows.count), encoding: .plain))
            let headerBytes = CompactWriter.serialize(header)
            try output.write(headerBytes)
            try output.write(stored)
            uncompressedTotal += headerBytes.count + body.count
            compressedTotal += headerBytes.count + stored.count
        }
        let metadata = ParquetColumnMetadata(
            type: column.type.physicalType,
            encodings: column.nullable ? [.plain, .rle] : [.plain],
            pathInSchema: [column.name],
            codec: codec,
            numValues: Int64(buffer.rowCount),
            totalUncompressedSize: Int64(uncompressedTotal),
            totalCompressedSize: Int64(compressedTotal),
            dataPageOffset: Int64(chunkStart),
            statistics: ChunkStatistics.compute(buffer))
        return ParquetColumnChunk(fileOffset: 0, metaData: metadata)
    }

    /// Splits the rows into pages of about `pageBytes` PLAIN bytes, at least one row each.
    private func pageRanges(_ buffer: ColumnBuffer) -> [Range<Int>] {
        let rows = buffer.rowCount
        let width: Int
        switch buffer.values {
        case .int32: width = 4
        case .int64, .double: width = 8
        case .byteArray(let column):
            var ranges: [Range<Int>] = []
            var start = 0, bytes = 0
            for row in 0..<rows {
                if buffer.isValid(row) { bytes += 4 + column.offsets[row + 1] - column.offsets[row] }
                if bytes >= pageBytes {
                    ranges.append(start..<row + 1)
                    start = row + 1
                    bytes = 0
                }
            }
            if start < rows { ranges.append(start..<rows) }
            return ranges
        }
        let rowsPerPage = max(1, pageBytes / width)
        return stride(from: 0, to: rows, by: rowsPerPage).map { $0..<min($0 + rowsPerPage, rows) }
    }

    /// Fills `body` with the page: for nullable columns a 4-byte length and RLE definition
    /// levels, then the PLAIN values of the non-null rows.
    private mutating func encodePage(_ buffer: ColumnBuffer, rows: Range<Int>) {
        body.removeAll(keepingCapacity: true)
        var validity: ArraySlice<Bool>?
        if buffer.column.nullable {
            let levels = buffer.validity[rows]
            validity = levels
            body.append(contentsOf: [0, 0, 0, 0])
            RLEHybridEncoder.encode(levels.lazy.map { $0 ? UInt32(1) : 0 }, bitWidth: 1, into: &body)
            let length = UInt32(body.count - 4)
            for k in 0..<4 { body[k] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(k))) }
        }
        switch buffer.values {
        case .int32(let values): appendFixed(values[rows], validity)
        case .int64(let values): appendFixed(values[rows], validity)
        case .double(let values): appendFixed(values[rows], validity)
        case .byteArray(let column): PlainEncoder.append(column, rows: rows, validity: buffer.column.nullable ? buffer.validity[...] : nil, into: &body)
        }
    }

    private mutating func appendFixed<T: BitwiseCopyable>(_ values: ArraySlice<T>, _ validity: ArraySlice<Bool>?) {
        if let validity, validity.contains(false) {
            PlainEncoder.append(values, validity: validity, into: &body)
        } else {
            PlainEncoder.append(values, into: &body)
        }
    }
}

extension ParquetColumnType {
    /// The Parquet physical type that stores this type.
    var physicalType: ParquetPhysicalType {
        switch self {
        case .int32: .int32
        case .int64: .int64
        case .double: .double
        case .string, .bytes: .byteArray
        }
    }

    /// The schema leaf for a column of this type.
    func schemaElement(name: String, nullable: Bool) -> ParquetSchemaElement {
        var element = ParquetSchemaElement(type: physicalType, repetition: nullable ? .optional : .required, name: name)
        if self == .string {
            element.convertedType = 0 // UTF8
            element.logicalType = .string
        }
        return element
    }
}
