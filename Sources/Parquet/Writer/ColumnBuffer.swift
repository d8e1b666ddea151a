/// The rows of one column buffered for the current row group.
///
/// Null rows keep a placeholder in `values`; `validity` is kept for nullable columns only.
/// Byte arrays stay indexed (`.indexed`) while every batch shares the first one's values, and
/// are copied out into `.byteArray` otherwise.
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
        let empty = rowCount == 0
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
        case (.byteArray, .indexed(let theirs)) where empty:
            values = .indexed(IndexedByteArrays(values: theirs.values, indices: Array(theirs.indices[rows])))
        case (.indexed(var mine), .indexed(let theirs)) where mine.values == theirs.values:
            values = .byteArray(ByteArrayColumn())
            mine.indices.append(contentsOf: theirs.indices[rows])
            values = .indexed(mine)
        case (.indexed(let mine), _):
            values = .byteArray(mine.materialized)
            append(batch, rows: rows)
            return
        case (.byteArray(var mine), .indexed(let theirs)):
            values = .byteArray(ByteArrayColumn())
            for index in theirs.indices[rows] { mine.append(theirs.values[Int(index)]) }
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
        case .indexed:
            values = .byteArray(ByteArrayColumn())
        }
        validity.removeAll(keepingCapacity: true)
    }

    /// Whether row `row` holds a value.
    func isValid(_ row: Int) -> Bool {
        column.nullable ? validity[row] : true
    }

    /// A byte-array column's rows as rows of one source column; nil for other columns.
    var byteRows: ByteRows? {
        switch values {
        case .byteArray(let column): ByteRows(source: column, indices: nil)
        case .indexed(let indexed): ByteRows(source: indexed.values, indices: indexed.indices)
        default: nil
        }
    }
}

/// The buffered values of a byte-array column: row `i` holds `source[sourceRow(i)]`, where the
/// source is the buffered bytes themselves (`indices == nil`) or the values shared by indexed
/// batches.
struct ByteRows {
    let source: ByteArrayColumn
    let indices: [Int32]?

    func sourceRow(_ row: Int) -> Int {
        if let indices { Int(indices[row]) } else { row }
    }

    /// The byte length of row `row`'s value.
    func length(_ row: Int) -> Int {
        let at = sourceRow(row)
        return source.offsets[at + 1] - source.offsets[at]
    }
}
