/// The rows of one column buffered for the current row group.
///
/// Null rows keep a placeholder in `values`; `validity` is kept for nullable columns only.
struct ColumnBuffer {
    let column: ParquetColumn
    private(set) var values: ColumnValues
    private(set) var validity: [Bool] = []

    init(_ column: ParquetColumn) {
        self.column = column
        self.values = .empty(for: column.type)
    }

    var rowCount: Int { values.count }

    /// Appends rows `rows` of `batch`, which has been checked to fit this column.
    mutating func append(_ batch: ColumnBatch, rows: Range<Int>) {
        switch (values, batch.values) {
        case (.int32(var mine), .int32(let theirs)):
            values = .int32([])
            mine.append(contentsOf: theirs[rows])
            values = .int32(mine)
        case (.int64(var mine), .int64(let theirs)):
            values = .int64([])
            mine.append(contentsOf: theirs[rows])
            values = .int64(mine)
        case (.double(var mine), .double(let theirs)):
            values = .double([])
            mine.append(contentsOf: theirs[rows])
            values = .double(mine)
        case (.byteArray(var mine), .byteArray(let theirs)):
            values = .byteArray(ByteArrayColumn())
            mine.append(contentsOf: theirs, range: rows)
            values = .byteArray(mine)
        default:
            preconditionFailure("batch type was checked before buffering")
        }
        if column.nullable {
            if let given = batch.validity {
                validity.append(contentsOf: given[rows])
            } else {
                validity.append(contentsOf: repeatElement(true, count: rows.count))
            }
        }
    }

    /// Empties the buffer, keeping its storage.
    mutating func removeAll() {
        switch values {
        case .int32(var v):
            values = .int32([])
            v.removeAll(keepingCapacity: true)
            values = .int32(v)
        case .int64(var v):
            values = .int64([])
            v.removeAll(keepingCapacity: true)
            values = .int64(v)
        case .double(var v):
            values = .double([])
            v.removeAll(keepingCapacity: true)
            values = .double(v)
        case .byteArray(var v):
            values = .byteArray(ByteArrayColumn())
            v.removeAll()
            values = .byteArray(v)
        }
        validity.removeAll(keepingCapacity: true)
    }

    /// Whether row `row` holds a value.
    func isValid(_ row: Int) -> Bool {
        column.nullable ? validity[row] : true
    }
}
