/// A leaf of the schema as the reader understands it.
struct LeafColumn {
    var column: ParquetColumn
    var physicalType: ParquetPhysicalType
    /// Byte width of FIXED_LEN_BYTE_ARRAY values.
    var typeLength: Int
}

/// Decodes the pages of one column chunk into a `ColumnAccumulator`.
///
/// Every length and count read from the file is checked before use; problems are thrown as
/// `ParquetError`s that name the column, row group and what is wrong.
struct ColumnChunkReader {
    let leaf: LeafColumn
    let codec: ParquetCodec
    let decompressor: ZstdDecompressor
    /// Used in errors, e.g. "file.parquet: column 'x', row group 2".
    let context: String
    private var dictionary: ColumnValues?

    init(leaf: LeafColumn, codec: ParquetCodec, decompressor: ZstdDecompressor, context: String) {
        self.leaf = leaf
        self.codec = codec
        self.decompressor = decompressor
        self.context = context
    }

    private func fail(_ message: String) -> ParquetError {
        ParquetError("\(context): \(message)")
    }

    /// Decodes `rows` rows from the chunk's bytes; `fileOffset` is the file offset of `bytes[0]`.
    mutating func read(_ bytes: [UInt8], fileOffset: Int, rows: Int, into output: inout ColumnAccumulator) throws {
        var position = 0
        var decoded = 0
        while decoded < rows {
            guard position < bytes.count else {
                throw fail("column chunk ends after \(decoded) of \(rows) rows")
            }
            var thrift = CompactReader(bytes, range: position..<bytes.count, baseOffset: fileOffset)
            let header: PageHeader
            do { header = try PageHeader(from: &thrift) } catch let error as ParquetError {
                throw fail("corrupt page header: \(error.message)")
            }
            position = thrift.position
            let stored = Int(header.compressedPageSize), uncompressed = Int(header.uncompressedPageSize)
            guard stored >= 0, uncompressed >= 0 else { throw fail("page at byte \(fileOffset + position) has a negative size") }
            guard stored <= bytes.count - position else {
                throw fail("page at byte \(fileOffset + position) of \(stored) bytes runs past the column chunk")
            }
            let page = position..<position + stored
            position += stored
            switch PageType(rawValue: header.type) {
            case .dictionaryPage:
                try readDictionaryPage(header, bytes, page)
            case .dataPage:
                decoded += try readDataPageV1(header, bytes, page, rowsLeft: rows - decoded, into: &output)
            case .dataPageV2:
                decoded += try readDataPageV2(header, bytes, page, rowsLeft: rows - decoded, into: &output)
            case .indexPage, nil:
                continue // not needed to read values
            }
        }
    }

    /// The body of a page (v1 or dictionary) after decompression.
    private func body(_ bytes: [UInt8], _ range: Range<Int>, uncompressedSize: Int) throws -> (bytes: [UInt8], range: Range<Int>) {
        switch codec {
        case .uncompressed:
            guard range.count == uncompressedSize else {
                throw fail("uncompressed page stores \(range.count) bytes but declares \(uncompressedSize)")
            }
            return (bytes, range)
        case .zstd:
            let output = try decompressor.decompress(bytes, range: range, expectedSize: uncompressedSize, what: context)
            return (output, 0..<output.count)
        case .snappy:
            let output = try Snappy.decompress(bytes, range: range, expectedSize: uncompressedSize, what: context)
            return (output, 0..<output.count)
        default:
            throw fail("unsupported codec \(codec)")
        }
    }

    private mutating func readDictionaryPage(_ header: PageHeader, _ bytes: [UInt8], _ page: Range<Int>) throws {
        guard let dictionaryHeader = header.dictionaryPageHeader else { throw fail("dictionary page lacks its header") }
        guard dictionary == nil else { throw fail("column chunk has more than one dictionary page") }
        guard dictionaryHeader.encoding == .plain || dictionaryHeader.encoding == .plainDictionary else {
            throw fail("unsupported dictionary encoding \(dictionaryHeader.encoding)")
        }
        let count = Int(dictionaryHeader.numValues)
        guard count >= 0 else { throw fail("dictionary has a negative size") }
        let (body, range) = try body(bytes, page, uncompressedSize: Int(header.uncompressedPageSize))
        var plain = PlainDecoder(body, range: range, what: "\(context): dictionary page")
        dictionary = try decodePlain(&plain, count: count)
    }

    /// Reads a v1 data page; returns its row count.
    private func readDataPageV1(_ header: PageHeader, _ bytes: [UInt8], _ page: Range<Int>, rowsLeft: Int,
                                into output: inout ColumnAccumulator) throws -> Int {
        guard let dataHeader = header.dataPageHeader else { throw fail("data page lacks its header") }
        let rows = Int(dataHeader.numValues)
        guard rows >= 0, rows <= rowsLeft else {
            throw fail("data page holds \(rows) values but only \(rowsLeft) rows are left in the row group")
        }
        let (body, range) = try body(bytes, page, uncompressedSize: Int(header.uncompressedPageSize))
        var valuesStart = range.lowerBound
        var validity: [Bool]?
        if leaf.column.nullable {
            guard dataHeader.definitionLevelEncoding == .rle else {
                throw fail("unsupported definition level encoding \(dataHeader.definitionLevelEncoding)")
            }
            guard range.count >= 4 else { throw fail("data page too short for its definition levels") }
            let length = Int(UInt32(littleEndianBytes: body[range.lowerBound..<range.lowerBound + 4]))
            guard length <= range.count - 4 else { throw fail("definition levels of \(length) bytes run past the page") }
            let levels = range.lowerBound + 4..<range.lowerBound + 4 + length
            validity = try decodeLevels(body, levels, rows: rows)
            valuesStart = levels.upperBound
        }
        let nonNull = validity.map { $0.reduce(0) { $1 ? $0 + 1 : $0 } } ?? rows
        let values = try decodeValues(dataHeader.encoding, body, valuesStart..<range.upperBound, count: nonNull)
        output.append(values, validity: validity)
        return rows
    }

    /// Reads a v2 data page: levels uncompressed, values compressed when `is_compressed`.
    private func readDataPageV2(_ header: PageHeader, _ bytes: [UInt8], _ page: Range<Int>, rowsLeft: Int,
                                into output: inout ColumnAccumulator) throws -> Int {
        guard let v2 = header.dataPageHeaderV2 else { throw fail("v2 data page lacks its header") }
        let rows = Int(v2.numValues)
        guard rows >= 0, rows <= rowsLeft, Int(v2.numRows) == rows else {
            throw fail("v2 data page holds \(v2.numValues) values in \(v2.numRows) rows; \(rowsLeft) rows are left")
        }
        let definitionLength = Int(v2.definitionLevelsByteLength), repetitionLength = Int(v2.repetitionLevelsByteLength)
        guard definitionLength >= 0, repetitionLength >= 0, definitionLength + repetitionLength <= page.count,
              definitionLength + repetitionLength <= Int(header.uncompressedPageSize) else {
            throw fail("v2 level lengths \(repetitionLength) + \(definitionLength) exceed the page")
        }
        let levelsStart = page.lowerBound + repetitionLength
        var validity: [Bool]?
        if leaf.column.nullable {
            validity = try decodeLevels(bytes, levelsStart..<levelsStart + definitionLength, rows: rows)
            let nulls = validity!.reduce(0) { $1 ? $0 : $0 + 1 }
            guard nulls == Int(v2.numNulls) else { throw fail("v2 page counts \(v2.numNulls) nulls, levels say \(nulls)") }
        }
        let valuesRange = levelsStart + definitionLength..<page.upperBound
        let valuesSize = Int(header.uncompressedPageSize) - definitionLength - repetitionLength
        let (body, range): ([UInt8], Range<Int>)
        if v2.isCompressed && codec != .uncompressed {
            (body, range) = try self.body(bytes, valuesRange, uncompressedSize: valuesSize)
        } else {
            guard valuesRange.count == valuesSize else {
                throw fail("uncompressed v2 values take \(valuesRange.count) bytes but the header says \(valuesSize)")
            }
            (body, range) = (bytes, valuesRange)
        }
        let nonNull = validity.map { $0.reduce(0) { $1 ? $0 + 1 : $0 } } ?? rows
        let values = try decodeValues(v2.encoding, body, range, count: nonNull)
        output.append(values, validity: validity)
        return rows
    }

    /// Decodes bit-width-1 definition levels: 1 = value present, 0 = null.
    private func decodeLevels(_ bytes: [UInt8], _ range: Range<Int>, rows: Int) throws -> [Bool] {
        var decoder = try RLEHybridDecoder(bytes, range: range, bitWidth: 1, what: "\(context): definition levels")
        var validity: [Bool] = []
        validity.reserveCapacity(min(rows, 1 << 20))
        try decoder.decode(count: rows) { level in
            guard level <= 1 else { throw fail("definition level \(level) exceeds the maximum 1") }
            validity.append(level == 1)
        }
        return validity
    }

    /// Decodes `count` non-null values stored with `encoding`.
    private func decodeValues(_ encoding: ParquetEncoding, _ bytes: [UInt8], _ range: Range<Int>, count: Int) throws -> ColumnValues {
        switch encoding {
        case .plain:
            var plain = PlainDecoder(bytes, range: range, what: context)
            return try decodePlain(&plain, count: count)
        case .plainDictionary, .rleDictionary:
            guard let dictionary else { throw fail("dictionary-encoded page without a dictionary page") }
            guard count > 0 else { return dictionary.gather([]) }
            guard !range.isEmpty else { throw fail("dictionary-encoded page has no bit width") }
            let bitWidth = Int(bytes[range.lowerBound])
            var decoder = try RLEHybridDecoder(bytes, range: range.lowerBound + 1..<range.upperBound, bitWidth: bitWidth,
                                               what: "\(context): dictionary indices")
            let indices = try decoder.decode(count: count)
            let size = dictionary.count
            if let bad = indices.first(where: { Int($0) >= size }) {
                throw fail("dictionary index \(bad) is out of range for \(size) entries")
            }
            return dictionary.gather(indices)
        case .deltaBinaryPacked:
            var delta = DeltaBinaryPackedDecoder(bytes, range: range, what: context)
            switch leaf.physicalType {
            case .int32: return .int32(try delta.decode(count: count, maxBitWidth: 32).map { Int32(truncatingIfNeeded: $0) })
            case .int64: return .int64(try delta.decode(count: count, maxBitWidth: 64))
            default: throw fail("DELTA_BINARY_PACKED is not valid for \(leaf.physicalType)")
            }
        case .rle where leaf.physicalType == .boolean:
            guard range.count >= 4 else { throw fail("RLE booleans lack their length") }
            let length = Int(UInt32(littleEndianBytes: bytes[range.lowerBound..<range.lowerBound + 4]))
            guard length <= range.count - 4 else { throw fail("RLE booleans of \(length) bytes run past the page") }
            var decoder = try RLEHybridDecoder(bytes, range: range.lowerBound + 4..<range.lowerBound + 4 + length,
                                               bitWidth: 1, what: "\(context): booleans")
            return .int32(try decoder.decode(count: count).map { Int32($0) })
        default:
            throw fail("unsupported encoding \(encoding) for \(leaf.physicalType)")
        }
    }

    /// Decodes `count` PLAIN values of the leaf's physical type into the column's kind.
    private func decodePlain(_ plain: inout PlainDecoder, count: Int) throws -> ColumnValues {
        switch leaf.physicalType {
        case .boolean: return .int32(try plain.booleans(count: count))
        case .int32: return .int32(try plain.fixed(Int32.self, count: count))
        case .int64: return .int64(try plain.fixed(Int64.self, count: count))
        case .float: return .double(try plain.fixed(Float.self, count: count).map(Double.init))
        case .double: return .double(try plain.fixed(Double.self, count: count))
        case .byteArray: return .byteArray(try plain.byteArrays(count: count))
        case .fixedLenByteArray: return .byteArray(try plain.fixedLengthByteArrays(count: count, width: leaf.typeLength))
        default: throw fail("unsupported physical type \(leaf.physicalType)")
        }
    }
}

extension ColumnValues {
    /// The values at `indices`, which the caller has bounds-checked.
    func gather(_ indices: [UInt32]) -> ColumnValues {
        switch self {
        case .int32(let values): .int32(indices.map { values[Int($0)] })
        case .int64(let values): .int64(indices.map { values[Int($0)] })
        case .double(let values): .double(indices.map { values[Int($0)] })
        case .byteArray(let values):
            .byteArray({
                var column = ByteArrayColumn()
                column.append(valuesOf: values, at: indices)
                return column
            }())
        case .indexed(let indexed):  // the reader's values are never indexed; for completeness
            .indexed(IndexedByteArrays(values: indexed.values, indices: indices.map { indexed.indices[Int($0)] }))
        }
    }
}
