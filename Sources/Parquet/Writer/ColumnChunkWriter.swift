/// Encodes one buffered column as a column chunk of v1 data pages and writes it: PLAIN,
/// dictionary (a PLAIN dictionary page first, then RLE_DICTIONARY pages) or DELTA_BINARY_PACKED,
/// as `ChunkEncoding.choose` decides for the whole chunk.
struct ColumnChunkWriter {
    let options: ParquetWriterOptions
    let compressor: ZstdCompressor?
    /// Reused page buffers: the page's bytes, and their zstd frame at the front of `compressed`.
    var body: [UInt8] = []
    var compressed: [UInt8] = []
    private var indexScratch: [UInt32] = []

    init(options: ParquetWriterOptions, compressor: ZstdCompressor?) {
        self.options = options
        self.compressor = compressor
    }

    var codec: ParquetCodec {
        options.compression == .none ? .uncompressed : .zstd
    }

    /// Sizes of the pages written so far in a chunk, headers included.
    private struct Totals {
        var uncompressed = 0
        var compressed = 0
    }

    /// Encodes `buffer`'s rows as a column chunk: its bytes, and its metadata with page offsets
    /// relative to the chunk's first byte (`EncodedChunk.placed(at:)` makes them file offsets).
    /// The bytes depend only on the rows and the options.
    mutating func encode(_ buffer: ColumnBuffer) throws -> EncodedChunk {
        var chunk: [UInt8] = []
        let column = buffer.column
        let encoding = ChunkEncoding.choose(for: buffer, requested: options.columnEncodings[column.name] ?? .automatic,
                                            options: options, storedSize: storedSize)
        var totals = Totals()
        var dictionaryPageOffset: Int64?
        var encodingStats: [ParquetPageEncodingStats]?
        var statistics: ParquetStatistics
        if case .dictionary(let dictionary) = encoding, let rows = buffer.byteRows {
            dictionaryPageOffset = Int64(chunk.count)
            body.removeAll(keepingCapacity: true)
            dictionary.appendPlain(of: rows, into: &body)
            try writePage(column, .dictionaryPage, values: dictionary.count, encoding: .plain, to: &chunk, totals: &totals)
            statistics = ChunkStatistics.compute(buffer, candidateSources: dictionary.entrySources)
        } else {
            statistics = ChunkStatistics.compute(buffer)
        }
        let dataPageOffset = Int64(chunk.count)
        var dataPages = 0
        for rows in pageRanges(buffer) {
            encodePage(buffer, rows: rows, encoding)
            try writePage(column, .dataPage, values: rows.count, encoding: encoding.dataEncoding, to: &chunk, totals: &totals)
            dataPages += 1
        }
        var encodings: Set<ParquetEncoding> = [encoding.dataEncoding]
        if column.nullable { encodings.insert(.rle) }
        if dictionaryPageOffset != nil {
            encodings.insert(.plain)
            encodingStats = [ParquetPageEncodingStats(pageType: .dictionaryPage, encoding: .plain, count: 1),
                             ParquetPageEncodingStats(pageType: .dataPage, encoding: .rleDictionary, count: Int32(dataPages))]
        }
        let metadata = ParquetColumnMetadata(
            type: column.type.physicalType,
            encodings: encodings.sorted { $0.rawValue < $1.rawValue },
            pathInSchema: [column.name],
            codec: codec,
            numValues: Int64(buffer.rowCount),
            totalUncompressedSize: Int64(totals.uncompressed),
            totalCompressedSize: Int64(totals.compressed),
            dataPageOffset: dataPageOffset,
            dictionaryPageOffset: dictionaryPageOffset,
            statistics: statistics,
            encodingStats: encodingStats)
        return EncodedChunk(bytes: chunk, metadata: metadata)
    }

    /// The size of `bytes` once compressed with the file's codec.
    private func storedSize(_ bytes: [UInt8]) -> Int {
        guard case .zstd(let level) = options.compression, let compressor else { return bytes.count }
        var frame: [UInt8] = []
        return (try? compressor.compress(bytes, level: level, into: &frame)) ?? bytes.count
    }

    /// Compresses `body` and appends it behind its page header. `values` is the dictionary's
    /// entry count for a dictionary page, the page's row count for a data page.
    private mutating func writePage(_ column: ParquetColumn, _ type: PageType, values: Int, encoding: ParquetEncoding,
                                    to chunk: inout [UInt8], totals: inout Totals) throws {
        var stored = body[...]
        if case .zstd(let level) = options.compression, let compressor {
            let size = try compressor.compress(body, level: level, into: &compressed)
            stored = compressed[..<size]
        }
        guard let uncompressedSize = Int32(exactly: body.count), let storedSize = Int32(exactly: stored.count),
              let count = Int32(exactly: values) else {
            throw ParquetError("column '\(column.name)': a page of \(body.count) bytes exceeds 2 GiB")
        }
        var header = PageHeader(type: type, uncompressedPageSize: uncompressedSize, compressedPageSize: storedSize)
        switch type {
        case .dictionaryPage: header.dictionaryPageHeader = DictionaryPageHeader(numValues: count, encoding: encoding)
        default: header.dataPageHeader = DataPageHeader(numValues: count, encoding: encoding)
        }
        let headerBytes = CompactWriter.serialize(header)
        chunk.append(contentsOf: headerBytes)
        chunk.append(contentsOf: stored)
        totals.uncompressed += headerBytes.count + body.count
        totals.compressed += headerBytes.count + stored.count
    }

    /// Splits the rows into pages of about `pageBytes` PLAIN bytes, at least one row each.
    /// Dictionary and delta pages take the same rows, so they come out smaller than `pageBytes`.
    private func pageRanges(_ buffer: ColumnBuffer) -> [Range<Int>] {
        let rows = buffer.rowCount
        let pageBytes = options.pageBytes
        if let values = buffer.byteRows {
            var ranges: [Range<Int>] = []
            var start = 0, bytes = 0
            for row in 0..<rows {
                if buffer.isValid(row) { bytes += 4 + values.length(row) }
                if bytes >= pageBytes {
                    ranges.append(start..<row + 1)
                    start = row + 1
                    bytes = 0
                }
            }
            if start < rows { ranges.append(start..<rows) }
            return ranges
        }
        let width = if case .int32 = buffer.values { 4 } else { 8 }
        let rowsPerPage = max(1, pageBytes / width)
        return stride(from: 0, to: rows, by: rowsPerPage).map { $0..<min($0 + rowsPerPage, rows) }
    }

    /// Fills `body` with the page: for nullable columns a 4-byte length and RLE definition
    /// levels, then the values of the non-null rows in the chunk's encoding.
    private mutating func encodePage(_ buffer: ColumnBuffer, rows: Range<Int>, _ encoding: ChunkEncoding) {
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
        switch (encoding, buffer.values) {
        case (.dictionary(let dictionary), _):
            body.append(UInt8(dictionary.bitWidth))
            if let validity, validity.contains(false) {
                indexScratch.removeAll(keepingCapacity: true)
                for row in rows where buffer.validity[row] { indexScratch.append(dictionary.indices[row]) }
                RLEHybridEncoder.encode(indexScratch, bitWidth: dictionary.bitWidth, into: &body)
            } else {
                RLEHybridEncoder.encode(dictionary.indices[rows], bitWidth: dictionary.bitWidth, into: &body)
            }
        case (.deltaBinaryPacked, .int32(let values)):
            buffer.withNonNullValues(values, rows: rows) { DeltaBinaryPackedEncoder.encode($0, into: &body) }
        case (.deltaBinaryPacked, .int64(let values)):
            buffer.withNonNullValues(values, rows: rows) { DeltaBinaryPackedEncoder.encode($0, into: &body) }
        case (_, .int32(let values)): appendFixed(values[rows], validity)
        case (_, .int64(let values)): appendFixed(values[rows], validity)
        case (_, .double(let values)): appendFixed(values[rows], validity)
        case (_, .byteArray(let column)):
            PlainEncoder.append(column, rows: rows, validity: buffer.column.nullable ? buffer.validity[...] : nil, into: &body)
        case (_, .indexed(let indexed)):
            let sources = rows.lazy.filter(buffer.isValid).map { Int(indexed.indices[$0]) }
            PlainEncoder.append(indexed.values, rows: sources, into: &body)
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

/// One column chunk, encoded and compressed, not yet placed in the file.
struct EncodedChunk: Sendable {
    var bytes: [UInt8]
    /// Page offsets relative to `bytes[0]`.
    var metadata: ParquetColumnMetadata

    /// The chunk's metadata once its first byte is at file offset `offset`.
    func placed(at offset: Int) -> ParquetColumnChunk {
        var metadata = metadata
        metadata.dataPageOffset += Int64(offset)
        metadata.dictionaryPageOffset = metadata.dictionaryPageOffset.map { $0 + Int64(offset) }
        return ParquetColumnChunk(fileOffset: 0, metaData: metadata)
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
