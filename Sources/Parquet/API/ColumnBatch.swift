/// The values of one column for a run of rows.
public enum ColumnValues: Sendable, Equatable {
    case int32([Int32])
    case int64([Int64])
    case double([Double])
    case byteArray(ByteArrayColumn)

    /// The number of values (rows).
    public var count: Int {
        switch self {
        case .int32(let values): values.count
        case .int64(let values): values.count
        case .double(let values): values.count
        case .byteArray(let values): values.count
        }
    }

    /// Whether these values can be stored in a column of type `type`.
    func fits(_ type: ParquetColumnType) -> Bool {
        switch (self, type) {
        case (.int32, .int32), (.int64, .int64), (.double, .double),
             (.byteArray, .string), (.byteArray, .bytes): true
        default: false
        }
    }

    /// Empty values of the kind a column of type `type` holds.
    static func empty(for type: ParquetColumnType) -> ColumnValues {
        switch type {
        case .int32: .int32([])
        case .int64: .int64([])
        case .double: .double([])
        case .string, .bytes: .byteArray(ByteArrayColumn())
        }
    }
}

/// One column's values for a batch of rows: one entry per row.
///
/// Where `validity[i] == false` the row is null and the value at `i` is ignored (any placeholder).
/// `validity == nil` means no row is null.
public struct ColumnBatch: Sendable, Equatable {
    public var values: ColumnValues
    public var validity: [Bool]?

    public init(_ values: ColumnValues, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
    }

    /// The number of rows.
    public var count: Int { values.count }

    /// The number of null rows.
    public var nullCount: Int {
        validity.map { $0.reduce(0) { $1 ? $0 : $0 + 1 } } ?? 0
    }
}
