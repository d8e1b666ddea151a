/// A Parquet physical type (`Type` in parquet.thrift); unknown values are kept as numbers.
public struct ParquetPhysicalType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let boolean = Self(rawValue: 0)
    public static let int32 = Self(rawValue: 1)
    public static let int64 = Self(rawValue: 2)
    public static let int96 = Self(rawValue: 3)
    public static let float = Self(rawValue: 4)
    public static let double = Self(rawValue: 5)
    public static let byteArray = Self(rawValue: 6)
    public static let fixedLenByteArray = Self(rawValue: 7)

    public var description: String {
        let names = ["BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"]
        return names.indices.contains(Int(rawValue)) ? names[Int(rawValue)] : "TYPE(\(rawValue))"
    }
}

/// A page or level encoding (`Encoding` in parquet.thrift).
public struct ParquetEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let plain = Self(rawValue: 0)
    public static let plainDictionary = Self(rawValue: 2)
    public static let rle = Self(rawValue: 3)
    public static let bitPacked = Self(rawValue: 4)
    public static let deltaBinaryPacked = Self(rawValue: 5)
    public static let deltaLengthByteArray = Self(rawValue: 6)
    public static let deltaByteArray = Self(rawValue: 7)
    public static let rleDictionary = Self(rawValue: 8)
    public static let byteStreamSplit = Self(rawValue: 9)

    public var description: String {
        let names = ["PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED",
                     "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"]
        return names.indices.contains(Int(rawValue)) ? names[Int(rawValue)] : "ENCODING(\(rawValue))"
    }
}

/// A compression codec (`CompressionCodec` in parquet.thrift).
public struct ParquetCodec: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let uncompressed = Self(rawValue: 0)
    public static let snappy = Self(rawValue: 1)
    public static let gzip = Self(rawValue: 2)
    public static let lzo = Self(rawValue: 3)
    public static let brotli = Self(rawValue: 4)
    public static let lz4 = Self(rawValue: 5)
    public static let zstd = Self(rawValue: 6)
    public static let lz4Raw = Self(rawValue: 7)

    public var description: String {
        let names = ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"]
        return names.indices.contains(Int(rawValue)) ? names[Int(rawValue)] : "CODEC(\(rawValue))"
    }
}

/// Whether a schema field is REQUIRED, OPTIONAL or REPEATED (`FieldRepetitionType`).
public struct ParquetRepetition: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let required = Self(rawValue: 0)
    public static let optional = Self(rawValue: 1)
    public static let repeated = Self(rawValue: 2)

    public var description: String {
        let names = ["REQUIRED", "OPTIONAL", "REPEATED"]
        return names.indices.contains(Int(rawValue)) ? names[Int(rawValue)] : "REPETITION(\(rawValue))"
    }
}

/// Which member of the `LogicalType` union a schema field carries; its parameters are not kept.
public struct ParquetLogicalType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The union's field id.
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let string = Self(rawValue: 1)
    public static let `enum` = Self(rawValue: 4)
    public static let json = Self(rawValue: 12)

    public var description: String {
        let names: [Int16: String] = [
            1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 8: "TIMESTAMP",
            10: "INTEGER", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT",
            17: "GEOMETRY", 18: "GEOGRAPHY",
        ]
        return names[rawValue] ?? "LOGICAL(\(rawValue))"
    }
}

/// Page types (`PageType` in parquet.thrift).
enum PageType: Int32 {
    case dataPage = 0, indexPage = 1, dictionaryPage = 2, dataPageV2 = 3
}

/// An empty Thrift struct (e.g. `StringType`, `TypeDefinedOrder`); reading skips any fields.
struct EmptyStruct: ThriftStruct {
    init() {}
    func writeFields(to writer: inout CompactWriter) {}
    init(from reader: inout CompactReader) throws {
        try reader.readFields { reader, field in try reader.skip(field.type) }
    }
}
