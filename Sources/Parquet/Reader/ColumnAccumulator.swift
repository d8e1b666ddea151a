/// Collects a column's rows page by page, placing placeholders at null rows.
struct ColumnAccumulator {
    private(set) var values: ColumnValues
    private(set) var validity: [Bool] = []
    private(set) var hasNulls = false

    init(_ type: ParquetColumnType) {
        values = .empty(for: type)
    }

    var rowCount: Int { validity.count }

    /// Appends a page: `page` holds the non-null values, `validity` one flag per row (nil: all valid).
    mutating func append(_ page: ColumnValues, validity pageValidity: [Bool]?) {
        guard let flags = pageValidity, flags.contains(false) else {
            validity.append(contentsOf: repeatElement(true, count: page.count))
            appendDense(page)
            return
        }
        hasNulls = true
        validity.append(contentsOf: flags)
        switch (values, page) {
        case (.int32(var mine), .int32(let theirs)):
            values = .int32([])
            scatter(theirs, flags, placeholder: 0, into: &mine)
            values = .int32(mine)
        case (.int64(var mine), .int64(let theirs)):
            values = .int64([])
            scatter(theirs, flags, placeholder: 0, into: &mine)
            values = .int64(mine)
        case (.double(var mine), .double(let theirs)):
            values = .double([])
            scatter(theirs, flags, placeholder: 0, into: &mine)
            values = .double(mine)
        case (.byteArray(var mine), .byteArray(let theirs)):
            values = .byteArray(ByteArrayColumn())
            var next = 0
            for valid in flags {
                if valid {
                    mine.append(theirs[next])
                    next += 1
                } else {
                    mine.offsets.append(mine.bytes.count)
                }
            }
            values = .byteArray(mine)
        default:
            preconditionFailure("page values have the column's kind")
        }
    }

    private mutating func appendDense(_ page: ColumnValues) {
        switch (values, page) {
        case (.int32(var mine), .int32(let theirs)):
            values = .int32([])
            mine.append(contentsOf: theirs)
            values = .int32(mine)
        case (.int64(var mine), .int64(let theirs)):
            values = .int64([])
            mine.append(contentsOf: theirs)
            values = .int64(mine)
        case (.double(var mine), .double(let theirs)):
            values = .double([])
            mine.append(contentsOf: theirs)
            values = .double(mine)
        case (.byteArray(var mine), .byteArray(let theirs)):
            values = .byteArray(ByteArrayColumn())
            mine.append(contentsOf: theirs, range: 0..<theirs.count)
            values = .byteArray(mine)
        default:
            preconditionFailure("page values have the column's kind")
        }
    }

    private func scatter<T>(_ dense: [T], _ flags: [Bool], placeholder: T, into out: inout [T]) {
        // Geometric growth: reserving the exact room page after page would copy every time.
        if out.capacity < out.count + flags.count { out.reserveCapacity(max(2 * out.capacity, out.count + flags.count)) }
        var next = 0
        for valid in flags {
            if valid {
                out.append(dense[next])
                next += 1
            } else {
                out.append(placeholder)
            }
        }
    }

    /// The collected column; validity is nil when no row is null.
    func batch() -> ColumnBatch {
        ColumnBatch(values, validity: hasNulls ? validity : nil)
    }
}
