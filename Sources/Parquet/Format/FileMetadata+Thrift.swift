// Compact-protocol serialization of the footer structs, field ids as in parquet.thrift.

extension CompactReader {
    /// The error for a missing required field.
    func missing(_ field: String, in structName: String) -> ParquetError {
        error("\(structName) lacks required field \(field)")
    }
}

extension ParquetFileMetadata: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: version)
        w.write(2, structList: schema)
        w.write(3, i64: numRows)
        w.write(4, structList: rowGroups)
        if !keyValueMetadata.isEmpty { w.write(5, structList: keyValueMetadata) }
        if let createdBy { w.write(6, string: createdBy) }
        if let columnOrders {
            w.writeFieldHeader(7, .list)
            w.writeListHeader(count: columnOrders.count, of: .struct)
            for order in columnOrders {
                w.beginStruct()
                w.write(order.rawValue, struct: EmptyStruct())
                w.endStruct()
            }
        }
    }

    init(from r: inout CompactReader) throws {
        var version: Int32?, schema: [ParquetSchemaElement]?, numRows: Int64?, rowGroups: [ParquetRowGroup]?
        var keyValues: [ParquetKeyValue] = [], createdBy: String?, columnOrders: [ParquetColumnOrder]?
        try r.readFields { r, f in
            switch f.id {
            case 1: version = try r.readI32(f)
            case 2: schema = try r.readStructList(f)
            case 3: numRows = try r.readI64(f)
            case 4: rowGroups = try r.readStructList(f)
            case 5: keyValues = try r.readStructList(f)
            case 6: createdBy = try r.readString(f)
            case 7:
                columnOrders = try r.readList(f) { r, type in
                    guard type == .struct else { throw r.error("column order is \(type.name), expected struct") }
                    var member: Int16 = 0
                    try r.readFields { r, f in
                        member = f.id
                        try r.skip(f.type)
                    }
                    return ParquetColumnOrder(rawValue: member)
                }
            default: try r.skip(f.type)
            }
        }
        guard let version else { throw r.missing("version", in: "FileMetaData") }
        guard let schema else { throw r.missing("schema", in: "FileMetaData") }
        guard let numRows else { throw r.missing("num_rows", in: "FileMetaData") }
        guard let rowGroups else { throw r.missing("row_groups", in: "FileMetaData") }
        self.init(version: version, schema: schema, numRows: numRows, rowGroups: rowGroups,
                  keyValueMetadata: keyValues, createdBy: createdBy, columnOrders: columnOrders)
    }
}

extension ParquetKeyValue: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        w.write(1, string: key)
        if let value { w.write(2, string: value) }
    }

    init(from r: inout CompactReader) throws {
        var key: String?, value: String?
        try r.readFields { r, f in
            switch f.id {
            case 1: key = try r.readString(f)
            case 2: value = try r.readString(f)
            default: try r.skip(f.type)
            }
        }
        guard let key else { throw r.missing("key", in: "KeyValue") }
        self.init(key, value)
    }
}

extension ParquetSchemaElement: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        if let type { w.write(1, i32: type.rawValue) }
        if let typeLength { w.write(2, i32: typeLength) }
        if let repetition { w.write(3, i32: repetition.rawValue) }
        w.write(4, string: name)
        if let numChildren { w.write(5, i32: numChildren) }
        if let convertedType { w.write(6, i32: convertedType) }
        if let scale { w.write(7, i32: scale) }
        if let precision { w.write(8, i32: precision) }
        if let fieldID { w.write(9, i32: fieldID) }
        if let logicalType {
            // Only parameterless members (STRING, ENUM, JSON, ...) can be written.
            w.beginStruct(10)
            w.write(logicalType.rawValue, struct: EmptyStruct())
            w.endStruct()
        }
    }

    init(from r: inout CompactReader) throws {
        var element = ParquetSchemaElement(name: "")
        var name: String?
        try r.readFields { r, f in
            switch f.id {
            case 1: element.type = ParquetPhysicalType(rawValue: try r.readI32(f))
            case 2: element.typeLength = try r.readI32(f)
            case 3: element.repetition = ParquetRepetition(rawValue: try r.readI32(f))
            case 4: name = try r.readString(f)
            case 5: element.numChildren = try r.readI32(f)
            case 6: element.convertedType = try r.readI32(f)
            case 7: element.scale = try r.readI32(f)
            case 8: element.precision = try r.readI32(f)
            case 9: element.fieldID = try r.readI32(f)
            case 10:
                guard f.type == .struct else { throw r.error("logicalType is \(f.type.name), expected struct") }
                try r.readFields { r, member in
                    element.logicalType = ParquetLogicalType(rawValue: member.id)
                    try r.skip(member.type)
                }
            default: try r.skip(f.type)
            }
        }
        guard let name else { throw r.missing("name", in: "SchemaElement") }
        element.name = name
        self = element
    }
}

extension ParquetRowGroup: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        w.write(1, structList: columns)
        w.write(2, i64: totalByteSize)
        w.write(3, i64: numRows)
        if let fileOffset { w.write(5, i64: fileOffset) }
        if let totalCompressedSize { w.write(6, i64: totalCompressedSize) }
        if let ordinal { w.write(7, i16: ordinal) }
    }

    init(from r: inout CompactReader) throws {
        var columns: [ParquetColumnChunk]?, totalByteSize: Int64?, numRows: Int64?
        var fileOffset: Int64?, totalCompressedSize: Int64?, ordinal: Int16?
        try r.readFields { r, f in
            switch f.id {
            case 1: columns = try r.readStructList(f)
            case 2: totalByteSize = try r.readI64(f)
            case 3: numRows = try r.readI64(f)
            case 5: fileOffset = try r.readI64(f)
            case 6: totalCompressedSize = try r.readI64(f)
            case 7: ordinal = try r.readI16(f)
            default: try r.skip(f.type)
            }
        }
        guard let columns else { throw r.missing("columns", in: "RowGroup") }
        guard let totalByteSize else { throw r.missing("total_byte_size", in: "RowGroup") }
        guard let numRows else { throw r.missing("num_rows", in: "RowGroup") }
        self.init(columns: columns, totalByteSize: totalByteSize, numRows: numRows, fileOffset: fileOffset,
                  totalCompressedSize: totalCompressedSize, ordinal: ordinal)
    }
}

extension ParquetColumnChunk: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        if let filePath { w.write(1, string: filePath) }
        w.write(2, i64: fileOffset)
        if let metaData { w.write(3, struct: metaData) }
    }

    init(from r: inout CompactReader) throws {
        var chunk = ParquetColumnChunk()
        try r.readFields { r, f in
            switch f.id {
            case 1: chunk.filePath = try r.readString(f)
            case 2: chunk.fileOffset = try r.readI64(f)
            case 3: chunk.metaData = try r.readStruct(f)
            default: try r.skip(f.type)
            }
        }
        self = chunk
    }
}

extension ParquetColumnMetadata: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: type.rawValue)
        w.write(2, i32List: encodings.map(\.rawValue))
        w.write(3, stringList: pathInSchema)
        w.write(4, i32: codec.rawValue)
        w.write(5, i64: numValues)
        w.write(6, i64: totalUncompressedSize)
        w.write(7, i64: totalCompressedSize)
        if !keyValueMetadata.isEmpty { w.write(8, structList: keyValueMetadata) }
        w.write(9, i64: dataPageOffset)
        if let indexPageOffset { w.write(10, i64: indexPageOffset) }
        if let dictionaryPageOffset { w.write(11, i64: dictionaryPageOffset) }
        if let statistics { w.write(12, struct: statistics) }
        if let encodingStats { w.write(13, structList: encodingStats) }
    }

    init(from r: inout CompactReader) throws {
        var type: Int32?, encodings: [Int32] = [], path: [String]?, codec: Int32?, numValues: Int64?
        var uncompressed: Int64?, compressed: Int64?, keyValues: [ParquetKeyValue] = [], dataPageOffset: Int64?
        var indexPageOffset: Int64?, dictionaryPageOffset: Int64?, statistics: ParquetStatistics?
        var encodingStats: [ParquetPageEncodingStats]?
        try r.readFields { r, f in
            switch f.id {
            case 1: type = try r.readI32(f)
            case 2: encodings = try r.readI32List(f)
            case 3: path = try r.readStringList(f)
            case 4: codec = try r.readI32(f)
            case 5: numValues = try r.readI64(f)
            case 6: uncompressed = try r.readI64(f)
            case 7: compressed = try r.readI64(f)
            case 8: keyValues = try r.readStructList(f)
            case 9: dataPageOffset = try r.readI64(f)
            case 10: indexPageOffset = try r.readI64(f)
            case 11: dictionaryPageOffset = try r.readI64(f)
            case 12: statistics = try r.readStruct(f)
            case 13: encodingStats = try r.readStructList(f)
            default: try r.skip(f.type)
            }
        }
        let name = "ColumnMetaData"
        guard let type else { throw r.missing("type", in: name) }
        guard let path else { throw r.missing("path_in_schema", in: name) }
        guard let codec else { throw r.missing("codec", in: name) }
        guard let numValues else { throw r.missing("num_values", in: name) }
        guard let uncompressed else { throw r.missing("total_uncompressed_size", in: name) }
        guard let compressed else { throw r.missing("total_compressed_size", in: name) }
        guard let dataPageOffset else { throw r.missing("data_page_offset", in: name) }
        self.init(type: ParquetPhysicalType(rawValue: type), encodings: encodings.map(ParquetEncoding.init(rawValue:)),
                  pathInSchema: path, codec: ParquetCodec(rawValue: codec), numValues: numValues,
                  totalUncompressedSize: uncompressed, totalCompressedSize: compressed, keyValueMetadata: keyValues,
                  dataPageOffset: dataPageOffset, indexPageOffset: indexPageOffset,
                  dictionaryPageOffset: dictionaryPageOffset, statistics: statistics, encodingStats: encodingStats)
    }
}

extension ParquetPageEncodingStats: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        w.write(1, i32: pageType)
        w.write(2, i32: encoding.rawValue)
        w.write(3, i32: count)
    }

    init(from r: inout CompactReader) throws {
        var pageType: Int32?, encoding: Int32?, count: Int32?
        try r.readFields { r, f in
            switch f.id {
            case 1: pageType = try r.readI32(f)
            case 2: encoding = try r.readI32(f)
            case 3: count = try r.readI32(f)
            default: try r.skip(f.type)
            }
        }
        let name = "PageEncodingStats"
        guard let pageType else { throw r.missing("page_type", in: name) }
        guard let encoding else { throw r.missing("encoding", in: name) }
        guard let count else { throw r.missing("count", in: name) }
        self.init(pageType: pageType, encoding: ParquetEncoding(rawValue: encoding), count: count)
    }
}

extension ParquetStatistics: ThriftStruct {
    func writeFields(to w: inout CompactWriter) {
        if let max { w.write(1, binary: max) }
        if let min { w.write(2, binary: min) }
        if let nullCount { w.write(3, i64: nullCount) }
        if let distinctCount { w.write(4, i64: distinctCount) }
        if let maxValue { w.write(5, binary: maxValue) }
        if let minValue { w.write(6, binary: minValue) }
        if let isMaxValueExact { w.write(7, bool: isMaxValueExact) }
        if let isMinValueExact { w.write(8, bool: isMinValueExact) }
        if let nanCount { w.write(9, i64: nanCount) }
    }

    init(from r: inout CompactReader) throws {
        var s = ParquetStatistics()
        try r.readFields { r, f in
            switch f.id {
            case 1: s.max = try r.readBinary(f)
            case 2: s.min = try r.readBinary(f)
            case 3: s.nullCount = try r.readI64(f)
            case 4: s.distinctCount = try r.readI64(f)
            case 5: s.maxValue = try r.readBinary(f)
            case 6: s.minValue = try r.readBinary(f)
            case 7: s.isMaxValueExact = try r.readBool(f)
            case 8: s.isMinValueExact = try r.readBool(f)
            case 9: s.nanCount = try r.readI64(f)
            default: try r.skip(f.type)
            }
        }
        self = s
    }
}
