/// The rows of one column buffered for the current row group.
///
/// Null rows keep a placeholder in `values`; `validity` is kept for nullable columns only.
/// Byte arrays stay indexed (`.indexed`) while every batch's values equal the first one's, and
/// are copied out into `.byteArray` otherwise.
struct ColumnBuffer {
    let column: ParquetColumn
    private(set) var values: ColumnValues
    private(set) var validity: [Bool] = []
    /// The rows the current row group is expected to hold (0 when unknown), for the room its
    /// first batch makes.
    private var expectedRows = 0
    /// Whether the numbers or indices buffered are a caller's array, taken whole: not storage
    /// to keep.
    private var holdsCallersArray = false
    /// The last row group's index storage, emptied, for the next one's indexed rows.
    private(set) var spareIndices: [Int32] = []

    init(_ column: ParquetColumn) {
        self.column = column
        self.values = .empty(for: column.type)
    }

    var rowCount: Int { values.count }

    /// Appends rows `rows` of `batch`, which has been checked to fit this column.
    ///
    /// Each case takes the buffered array out of `values` before growing it, so that `values`
    /// does not share it and the append never copies what is already buffered (a caller's array
    /// taken whole is a full row group: nothing comes after it).
    mutating func append(_ batch: ColumnBatch, rows: Range<Int>) {
        switch batch.values {
        case .int32(let theirs):
            guard case .int32(var mine) = values else { preconditionFailure("batch type was checked before buffering") }
            values = .int32([])
            append(rows, of: theirs, to: &mine)
            values = .int32(mine)
        case .int64(let theirs):
            guard case .int64(var mine) = values else { preconditionFailure("batch type was checked before buffering") }
            values = .int64([])
            append(rows, of: theirs, to: &mine)
            values = .int64(mine)
        case .double(let theirs):
            guard case .double(var mine) = values else { preconditionFailure("batch type was checked before buffering") }
            values = .double([])
            append(rows, of: theirs, to: &mine)
            values = .double(mine)
        case .byteArray(let theirs):
            var mine = takeCopiedBytes()
            mine.append(contentsOf: theirs, range: rows)
            values = .byteArray(mine)
        case .indexed(let theirs):
            if rowCount == 0 {
                var indices = spareIndices
                spareIndices = []
                append(rows, of: theirs.indices, to: &indices)
                values = .indexed(IndexedByteArrays(values: theirs.values, indices: indices))
            } else if case .indexed(var mine) = values, mine.values == theirs.values {
                values = .byteArray(ByteArrayColumn())
                mine.indices.append(contentsOf: theirs.indices[rows])
                values = .indexed(mine)
            } else {
                var mine = takeCopiedBytes()
                mine.append(valuesOf: theirs.values, at: theirs.indices[rows])
                values = .byteArray(mine)
            }
        }
        if column.nullable {
            if let given = batch.validity {
                validity.append(contentsOf: given[rows])
            } else {
                validity.append(contentsOf: repeatElement(true, count: rows.count))
            }
        }
    }

    /// Appends rows `rows` of `theirs` to `mine`. A row group's first batch that holds all of its
    /// rows is taken as it is, sharing the caller's array instead of copying it (a table of one
    /// row group is then written straight from the caller's columns); otherwise the array is
    /// sized for the row group once, at its first rows.
    private mutating func append<T>(_ rows: Range<Int>, of theirs: [T], to mine: inout [T]) {
        if mine.isEmpty && rows.count == theirs.count && rows.count == expectedRows {
            mine = theirs
            holdsCallersArray = true
            return
        }
        if mine.isEmpty { mine.reserveCapacity(max(expectedRows, rows.count)) }
        mine.append(contentsOf: theirs[rows])
    }

    /// The buffered byte arrays, copied out of their values if they were indexed, leaving an
    /// empty placeholder in `values` until the caller puts them back.
    private mutating func takeCopiedBytes() -> ByteArrayColumn {
        switch values {
        case .indexed(let indexed):
            values = .byteArray(ByteArrayColumn())
            return indexed.materialized()
        case .byteArray(let bytes):
            values = .byteArray(ByteArrayColumn())
            return bytes
        default:
            preconditionFailure("batch type was checked before buffering")
        }
    }

    /// Tells an empty buffer that the row group will hold `rows` rows, when the writer knows how
    /// many: its arrays are then sized once, at the first rows, instead of grown by doubling,
    /// which leaves up to half of them unused and, while growing, holds the old and the new copy.
    mutating func expect(rows: Int) {
        precondition(rowCount == 0, "the rows are expected before a row group's first rows")
        expectedRows = rows
        if column.nullable { validity.reserveCapacity(rows) }
    }

    /// Empties the buffer, keeping the storage of numbers, indices and copied byte arrays (but
    /// not a caller's array, taken whole).
    mutating func removeAll() {
        switch values {
        case _ where holdsCallersArray:
            values = .empty(for: column.type)
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
        case .indexed(var indexed):
            values = .byteArray(ByteArrayColumn())
            indexed.indices.removeAll(keepingCapacity: true)
            spareIndices = indexed.indices
        }
        validity.removeAll(keepingCapacity: true)
        expectedRows = 0
        holdsCallersArray = false
    }

    /// Whether the buffered rows index `values` (checked once, when their first batch came).
    func holds(_ values: ByteArrayColumn) -> Bool {
        if case .indexed(let indexed) = self.values { indexed.values == values } else { false }
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
