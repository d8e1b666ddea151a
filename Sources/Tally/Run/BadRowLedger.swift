import Parquet

/// Applies the `bad_rows` policy, in input order: `fail` stops at the first bad row, `skip`
/// counts them, `quarantine` also writes each to `quarantine.parquet`; more than `max` fails.
final class BadRowLedger {
    private let policy: Pipeline.BadRows
    private let quarantine: ParquetWriter?
    private(set) var count = 0
    private(set) var quarantined = 0

    static let quarantineColumns = [
        ParquetColumn("file", .string),
        ParquetColumn("line", .int64),
        ParquetColumn("byte_offset", .int64),
        ParquetColumn("reason", .string),
        ParquetColumn("raw", .bytes),
    ]

    /// `quarantinePath` is where `quarantine.parquet` goes when the policy is `quarantine`; nil
    /// when nothing is published (a shard's map keeps its bad rows in its partials, `gradcheck`
    /// drops them) and only the policy's limits apply.
    init(policy: Pipeline.BadRows, quarantinePath: String?, options: ParquetWriterOptions = .init()) throws {
        self.policy = policy
        quarantine = try quarantinePath.flatMap { path in
            policy.policy == .quarantine ? try TableWriter.open(path: path, columns: Self.quarantineColumns, options: options) : nil
        }
    }

    /// Records the bad rows of one file, `file` (its path as written to outputs).
    func record(_ rows: [BadRow], file: String) throws {
        guard !rows.isEmpty else { return }
        for row in rows {
            count += 1
            if policy.policy == .fail {
                throw TallyError(.badInput, stage: row.stage, at: row.location, row.reason)
            }
            if let max = policy.max, count > max {
                throw TallyError(.badInput, stage: row.stage, at: row.location,
                                 "too many bad rows: more than max \(max) (policy \(policy.policy.rawValue)); this one: \(row.reason)")
            }
        }
        guard let quarantine else { return }
        var files = ByteArrayColumn(), reasons = ByteArrayColumn(), raw = ByteArrayColumn()
        for row in rows {
            files.append(file)
            reasons.append(row.reason)
            raw.append(row.raw)
        }
        try TableWriter.append(to: quarantine, [
            ColumnBatch(.byteArray(files)),
            ColumnBatch(.int64(rows.map { Int64($0.location.line ?? 0) })),
            ColumnBatch(.int64(rows.map { $0.location.byteOffset ?? 0 })),
            ColumnBatch(.byteArray(reasons)),
            ColumnBatch(.byteArray(raw)),
        ])
        quarantined += rows.count
    }

    /// Finishes `quarantine.parquet`; returns its row count, or nil without quarantine.
    func close() throws -> Int? {
        guard let quarantine else { return nil }
        try TableWriter.close(quarantine)
        return quarantined
    }
}
