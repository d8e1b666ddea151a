/// The values of one column for a run of rows.
public enum ColumnValues: Sendable, Equatable {
    case int32([Int32])
    case int64([Int64])
    case double([Double])
    case byteArray(ByteArrayColumn)
    /// Byte arrays given as indices into a list of values (for a string or bytes column).
    case indexed(IndexedByteArrays)

    /// The number of values (rows).
    public var count: Int {
        switch self {
        case .int32(let values): values.count
        case .int64(let values): values.count
        case .double(let values): values.count
        case .byteArray(let values): values.count
        case .indexed(let values): values.indices.count
        }
    }

    /// Whether these values can be stored in a column of type `type`.
    func fits(_ type: ParquetColumnType) -> Bool {
        switch (self, type) {
        case (.int32, .int32), (.int64, .int64), (.double, .double),
             (.byteArray, .string), (.byteArray, .bytes), (.indexed, .string), (.indexed, .bytes): true
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

/// Byte arrays as indices into a list of values, like Arrow's dictionary arrays: row `i` holds
/// `values[indices[i]]`. Every index must be in `0..<values.count`, null rows' too (unlike Arrow,
/// where a null row's index may be anything), so an all-null batch still needs one value.
///
/// A writer buffers consecutive batches whose `values` are equal (instantly when they share
/// storage, else compared value by value) as indices only, and builds a column chunk's
/// dictionary page from the indices without hashing or copying a value; other batches are
/// copied out. With distinct `values` the file is byte for byte the one the copied-out values
/// give; a value listed twice becomes two dictionary entries (still read back correctly) and
/// may change the encoding the writer picks.
public struct IndexedByteArrays: Sendable, Equatable {
    public var values: ByteArrayColumn
    public var indices: [Int32]

    public init(values: ByteArrayColumn, indices: [Int32]) {
        self.values = values
        self.indices = indices
    }

    /// The values of the rows, copied out one by one.
    public func materialized() -> ByteArrayColumn {
        var column = ByteArrayColumn()
        column.append(valuesOf: values, at: indices)
        return column
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
