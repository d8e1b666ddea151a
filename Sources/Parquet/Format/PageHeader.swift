/// A page header (`PageHeader`); exactly one of the typed headers matches `type`.
struct PageHeader: ThriftStruct {
    var type: Int32
    /// Body bytes before compression, header excluded.
    var uncompressedPageSize: Int32
    /// Body bytes as stored, header excluded.
    var compressedPageSize: Int32
    var dataPageHeader: DataPageHeader?
    var dictionaryPageHeader: DictionaryPageHeader?
    var dataPageHeaderV2: DataPageHeaderV2?

    init(type: PageType, uncompressedPageSize: Int32, compressedPageSize: Int32,
         dataPageHeader: DataPageHeader? = nil, dictionaryPageHeader: DictionaryPageHeader? = nil) {
        self.type = type.rawValue
        self.uncompressedPageSize = uncompressedPageSize
        self.compressedPageSize = compressedPageSize
        self.dataPageHeader = dataPageHeader
        self.dictionaryPageHeader = dictionaryPageHeader
    }

    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: type)
        w.write(2, i32: uncompressedPageSize)
        w.write(3, i32: compressedPageSize)
        if let dataPageHeader { w.write(5, struct: dataPageHeader) }
        if let dictionaryPageHeader { w.write(7, struct: dictionaryPageHeader) }
        if let dataPageHeaderV2 { w.write(8, struct: dataPageHeaderV2) }
    }

    init(from r: inout CompactReader) throws {
        var type: Int32?, uncompressed: Int32?, compressed: Int32?
        var data: DataPageHeader?, dictionary: DictionaryPageHeader?, dataV2: DataPageHeaderV2?
        try r.readFields { r, f in
            switch f.id {
            case 1: type = try r.readI32(f)
            case 2: uncompressed = try r.readI32(f)
            case 3: compressed = try r.readI32(f)
            case 5: data = try r.readStruct(f)
            case 7: dictionary = try r.readStruct(f)
            case 8: dataV2 = try r.readStruct(f)
            default: try r.skip(f.type)
            }
        }
        guard let type else { throw r.missing("type", in: "PageHeader") }
        guard let uncompressed else { throw r.missing("uncompressed_page_size", in: "PageHeader") }
        guard let compressed else { throw r.missing("compressed_page_size", in: "PageHeader") }
        self.type = type
        self.uncompressedPageSize = uncompressed
        self.compressedPageSize = compressed
        self.dataPageHeader = data
        self.dictionaryPageHeader = dictionary
        self.dataPageHeaderV2 = dataV2
    }
}

/// `DataPageHeader` (v1): levels and values, compressed together.
struct DataPageHeader: ThriftStruct {
    /// Values including nulls.
    var numValues: Int32
    var encoding: ParquetEncoding
    var definitionLevelEncoding: ParquetEncoding
    var repetitionLevelEncoding: ParquetEncoding

    init(numValues: Int32, encoding: ParquetEncoding,
         definitionLevelEncoding: ParquetEncoding = .rle, repetitionLevelEncoding: ParquetEncoding = .rle) {
        self.numValues = numValues
        self.encoding = encoding
        self.definitionLevelEncoding = definitionLevelEncoding
        self.repetitionLevelEncoding = repetitionLevelEncoding
    }

    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: numValues)
        w.write(2, i32: encoding.rawValue)
        w.write(3, i32: definitionLevelEncoding.rawValue)
        w.write(4, i32: repetitionLevelEncoding.rawValue)
    }

    init(from r: inout CompactReader) throws {
        var numValues: Int32?, encoding: Int32?, definition: Int32 = 3, repetition: Int32 = 3
        try r.readFields { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: encoding = try r.readI32(f)
            case 3: definition = try r.readI32(f)
            case 4: repetition = try r.readI32(f)
            default: try r.skip(f.type)
            }
        }
        guard let numValues else { throw r.missing("num_values", in: "DataPageHeader") }
        guard let encoding else { throw r.missing("encoding", in: "DataPageHeader") }
        self.init(numValues: numValues, encoding: ParquetEncoding(rawValue: encoding),
                  definitionLevelEncoding: ParquetEncoding(rawValue: definition),
                  repetitionLevelEncoding: ParquetEncoding(rawValue: repetition))
    }
}

/// `DictionaryPageHeader`: the dictionary's entries, PLAIN-encoded.
struct DictionaryPageHeader: ThriftStruct {
    var numValues: Int32
    var encoding: ParquetEncoding

    init(numValues: Int32, encoding: ParquetEncoding = .plain) {
        self.numValues = numValues
        self.encoding = encoding
    }

    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: numValues)
        w.write(2, i32: encoding.rawValue)
    }

    init(from r: inout CompactReader) throws {
        var numValues: Int32?, encoding: Int32?
        try r.readFields { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: encoding = try r.readI32(f)
            default: try r.skip(f.type)
            }
        }
        guard let numValues else { throw r.missing("num_values", in: "DictionaryPageHeader") }
        guard let encoding else { throw r.missing("encoding", in: "DictionaryPageHeader") }
        self.init(numValues: numValues, encoding: ParquetEncoding(rawValue: encoding))
    }
}

/// `DataPageHeaderV2`: levels stored uncompressed before the (maybe compressed) values.
struct DataPageHeaderV2: ThriftStruct {
    var numValues: Int32
    var numNulls: Int32
    var numRows: Int32
    var encoding: ParquetEncoding
    var definitionLevelsByteLength: Int32
    var repetitionLevelsByteLength: Int32
    /// Absent means true.
    var isCompressed: Bool = true

    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: numValues)
        w.write(2, i32: numNulls)
        w.write(3, i32: numRows)
        w.write(4, i32: encoding.rawValue)
        w.write(5, i32: definitionLevelsByteLength)
        w.write(6, i32: repetitionLevelsByteLength)
        w.write(7, bool: isCompressed)
    }

    init(from r: inout CompactReader) throws {
        var numValues: Int32?, numNulls: Int32?, numRows: Int32?, encoding: Int32?
        var definitionLength: Int32?, repetitionLength: Int32?, isCompressed = true
        try r.readFields { r, f in
            switch f.id {
            case 1: numValues = try r.readI32(f)
            case 2: numNulls = try r.readI32(f)
            case 3: numRows = try r.readI32(f)
            case 4: encoding = try r.readI32(f)
            case 5: definitionLength = try r.readI32(f)
            case 6: repetitionLength = try r.readI32(f)
            case 7: isCompressed = try r.readBool(f)
            default: try r.skip(f.type)
            }
        }
        let name = "DataPageHeaderV2"
        guard let numValues else { throw r.missing("num_values", in: name) }
        guard let numNulls else { throw r.missing("num_nulls", in: name) }
        guard let numRows else { throw r.missing("num_rows", in: name) }
        guard let encoding else { throw r.missing("encoding", in: name) }
        guard let definitionLength else { throw r.missing("definition_levels_byte_length", in: name) }
        guard let repetitionLength else { throw r.missing("repetition_levels_byte_length", in: name) }
        self.numValues = numValues
        self.numNulls = numNulls
        self.numRows = numRows
        self.encoding = ParquetEncoding(rawValue: encoding)
        self.definitionLevelsByteLength = definitionLength
        self.repetitionLevelsByteLength = repetitionLength
        self.isCompressed = isCompressed
    }
}
