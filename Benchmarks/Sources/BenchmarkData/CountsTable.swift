import Parquet

/// A table shaped like `counts.parquet` for `key: [item]`: `item` (INT32), `item_id` (STRING,
/// null for the OOV bucket, row 0), `count` (INT64), `value` and `grad` (DOUBLE), sorted by item.
public enum CountsTable {
    public static let columns = [
        ParquetColumn("item", .int32),
        ParquetColumn("item_id", .string, nullable: true),
        ParquetColumn("count", .int64),
        ParquetColumn("value", .double),
        ParquetColumn("grad", .double),
    ]

    /// `rows` rows of seeded values, one `ColumnBatch` per column.
    public static func batch(rows: Int, seed: UInt64 = 11) -> [ColumnBatch] {
        var random = SeededRandom(seed: seed)
        var ids = ByteArrayColumn()
        ids.reserveCapacity(values: rows, bytes: rows * 12)
        var counts: [Int64] = [], values: [Double] = [], grads: [Double] = []
        counts.reserveCapacity(rows); values.reserveCapacity(rows); grads.reserveCapacity(rows)
        var bytes: [UInt8] = []
        for row in 0..<rows {
            bytes.removeAll(keepingCapacity: true)
            if row > 0 {
                bytes.append(contentsOf: "sku-".utf8)
                appendHex(row, width: 8, to: &bytes)
            }
            ids.append(bytes)
            // A long tail: most keys are seen a few times.
            let count = Int64(1 / max(random.unit(), 1e-6))
            counts.append(count)
            let value = Double(count) * 20 * random.unit()
            values.append(value)
            grads.append(-(value + 1).squareRoot() / 100)
        }
        return [
            ColumnBatch(.int32((0..<Int32(rows)).map { $0 })),
            ColumnBatch(.byteArray(ids), validity: (0..<rows).map { $0 > 0 }),
            ColumnBatch(.int64(counts)),
            ColumnBatch(.double(values)),
            ColumnBatch(.double(grads)),
        ]
    }
}
