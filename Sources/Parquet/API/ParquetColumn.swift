/// The value type of a column, as the caller sees it.
///
/// `string` is a BYTE_ARRAY annotated as UTF-8 text (STRING logical type, UTF8 converted type);
/// `bytes` is a plain BYTE_ARRAY. The reader maps other physical types onto these (see
/// `ParquetReader`).
public enum ParquetColumnType: Sendable, Hashable, CustomStringConvertible {
    case int32, int64, double, string, bytes

    public var description: String {
        switch self {
        case .int32: "int32"
        case .int64: "int64"
        case .double: "double"
        case .string: "string"
        case .bytes: "bytes"
        }
    }
}

/// One flat (leaf) column of a Parquet schema.
public struct ParquetColumn: Sendable, Hashable {
    public var name: String
    public var type: ParquetColumnType
    /// Whether rows may be null (OPTIONAL); otherwise REQUIRED.
    public var nullable: Bool

    public init(_ name: String, _ type: ParquetColumnType, nullable: Bool = false) {
        self.name = name
        self.type = type
        self.nullable = nullable
    }
}
