/// A Parquet file's footer (`FileMetaData` in parquet.thrift): schema, row groups, provenance.
public struct ParquetFileMetadata: Sendable {
    public var version: Int32
    /// The flattened schema; element 0 is the root.
    public var schema: [ParquetSchemaElement]
    public var numRows: Int64
    public var rowGroups: [ParquetRowGroup]
    public var keyValueMetadata: [ParquetKeyValue] = []
    public var createdBy: String?
    /// One entry per leaf column when present; `.typeDefined` means min/max follow the type's order.
    public var columnOrders: [ParquetColumnOrder]?
}

/// A member of the `ColumnOrder` union.
public struct ParquetColumnOrder: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The union's field id.
    public var rawValue: Int16
    public init(rawValue: Int16) { self.rawValue = rawValue }

    public static let typeDefined = Self(rawValue: 1)

    public var description: String { rawValue == 1 ? "TYPE_DEFINED_ORDER" : "COLUMN_ORDER(\(rawValue))" }
}

/// One node of the flattened schema (`SchemaElement`).
public struct ParquetSchemaElement: Sendable {
    /// Set for leaves only.
    public var type: ParquetPhysicalType?
    /// Byte width of FIXED_LEN_BYTE_ARRAY values.
    public var typeLength: Int32?
    /// Absent on the root.
    public var repetition: ParquetRepetition?
    public var name: String
    /// Set for groups (and the root) only.
    public var numChildren: Int32?
    /// The deprecated `ConvertedType` number (UTF8 = 0).
    public var convertedType: Int32?
    public var scale: Int32?
    public var precision: Int32?
    public var fieldID: Int32?
    public var logicalType: ParquetLogicalType?
}

/// One row group (`RowGroup`).
public struct ParquetRowGroup: Sendable {
    /// One chunk per leaf column, in schema order.
    public var columns: [ParquetColumnChunk]
    /// Uncompressed bytes of all column chunks, page headers included.
    public var totalByteSize: Int64
    public var numRows: Int64
    /// File offset of the first page.
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?
}

/// One column's part of a row group (`ColumnChunk`).
public struct ParquetColumnChunk: Sendable {
    /// Set only when the chunk lives in another file (not supported by the reader).
    public var filePath: String?
    public var fileOffset: Int64 = 0
    public var metaData: ParquetColumnMetadata?
}

/// Where a column chunk's pages are and how they are stored (`ColumnMetaData`).
public struct ParquetColumnMetadata: Sendable {
    public var type: ParquetPhysicalType
    public var encodings: [ParquetEncoding]
    public var pathInSchema: [String]
    public var codec: ParquetCodec
    /// Values including nulls; the row count for flat columns.
    public var numValues: Int64
    /// Bytes of all pages, headers included, before compression.
    public var totalUncompressedSize: Int64
    /// Bytes of all pages as stored, headers included.
    public var totalCompressedSize: Int64
    public var keyValueMetadata: [ParquetKeyValue] = []
    /// File offset of the first data page header.
    public var dataPageOffset: Int64
    public var indexPageOffset: Int64?
    /// File offset of the dictionary page header, when there is one.
    public var dictionaryPageOffset: Int64?
    public var statistics: ParquetStatistics?
    /// How many pages of each type use each encoding; written for dictionary-encoded chunks.
    public var encodingStats: [ParquetPageEncodingStats]?

    /// The statistics' `min_value` decoded by physical type.
    public var minValue: ParquetScalar? { statistics?.minValue.flatMap { ParquetScalar(plain: $0, type: type) } }
    /// The statistics' `max_value` decoded by physical type.
    public var maxValue: ParquetScalar? { statistics?.maxValue.flatMap { ParquetScalar(plain: $0, type: type) } }
}

/// Column chunk statistics (`Statistics`); min/max are PLAIN-encoded bytes without length prefix.
public struct ParquetStatistics: Sendable, Hashable {
    /// Deprecated signed-order bound; not written by `ParquetWriter`.
    public var max: [UInt8]?
    /// Deprecated signed-order bound; not written by `ParquetWriter`.
    public var min: [UInt8]?
    public var nullCount: Int64?
    public var distinctCount: Int64?
    public var maxValue: [UInt8]?
    public var minValue: [UInt8]?
    public var isMaxValueExact: Bool?
    public var isMinValueExact: Bool?
    /// NaN values in a FLOAT/DOUBLE chunk.
    public var nanCount: Int64?
}

/// The number of pages of one type stored with one encoding (`PageEncodingStats`).
public struct ParquetPageEncodingStats: Sendable, Hashable {
    /// A `PageType` number: 0 data page, 2 dictionary page, 3 data page v2.
    public var pageType: Int32
    public var encoding: ParquetEncoding
    public var count: Int32

    public init(pageType: Int32, encoding: ParquetEncoding, count: Int32) {
        self.pageType = pageType
        self.encoding = encoding
        self.count = count
    }

    init(pageType: PageType, encoding: ParquetEncoding, count: Int32) {
        self.init(pageType: pageType.rawValue, encoding: encoding, count: count)
    }
}

/// A single decoded value, used for statistics.
public enum ParquetScalar: Sendable, Hashable, CustomStringConvertible {
    case boolean(Bool)
    case int32(Int32)
    case int64(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])

    /// Decodes PLAIN bytes (no length prefix for byte arrays); nil if the size does not fit the type.
    init?(plain: [UInt8], type: ParquetPhysicalType) {
        switch type {
        case .boolean where plain.count == 1: self = .boolean(plain[0] != 0)
        case .int32 where plain.count == 4: self = .int32(Int32(bitPattern: UInt32(littleEndianBytes: plain)))
        case .int64 where plain.count == 8: self = .int64(Int64(bitPattern: UInt64(littleEndianBytes: plain)))
        case .float where plain.count == 4: self = .float(Float(bitPattern: UInt32(littleEndianBytes: plain)))
        case .double where plain.count == 8: self = .double(Double(bitPattern: UInt64(littleEndianBytes: plain)))
        case .byteArray, .fixedLenByteArray: self = .bytes(plain)
        default: return nil
        }
    }

    /// Numbers as Swift prints them; byte arrays as a quoted string when valid UTF-8, else hex.
    public var description: String {
        switch self {
        case .boolean(let v): "\(v)"
        case .int32(let v): "\(v)"
        case .int64(let v): "\(v)"
        case .float(let v): "\(v)"
        case .double(let v): "\(v)"
        case .bytes(let v):
            if let text = String(validating: v, as: UTF8.self) {
                "\"\(text)\""
            } else {
                "0x" + v.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
            }
        }
    }
}

extension FixedWidthInteger {
    /// Reads a little-endian integer from the first `bitWidth / 8` bytes.
    init(littleEndianBytes bytes: some Collection<UInt8>) {
        var value = Self.zero
        var shift = 0
        for byte in bytes.prefix(Self.bitWidth / 8) {
            value |= Self(truncatingIfNeeded: byte) << shift
            shift += 8
        }
        self = value
    }
}
