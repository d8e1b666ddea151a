import Benchmark
import BenchmarkData
import Parquet

// The Parquet writer on a counts-like table (item INT32, item_id STRING nullable, count INT64,
// value and grad DOUBLE): create, append one batch, close (footer and fsync), on tmpfs.
// One iteration is one file; 1M rows is one row group.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, TallyMetric.nanosecondsPerRow, TallyMetric.outputMegabytesPerSecond, TallyMetric.fileBytes,
                  .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 10,
        thresholds: allocationThresholds
    )

    // The defaults (zstd level 3, dictionaries and DELTA_BINARY_PACKED where they pay), no
    // compression, and the choices the defaults were measured against: what each costs in time
    // and in bytes (`file bytes`).
    var plain = ParquetWriterOptions(), zstd1 = ParquetWriterOptions(), noDelta = ParquetWriterOptions()
    plain.compression = .none
    zstd1.compression = .zstd(level: 1)
    noDelta.deltaIntegers = false
    let cases: [(String, ParquetWriterOptions, [Int])] = [
        ("zstd3", ParquetWriterOptions(), [250_000, 1_000_000]), ("plain", plain, [250_000, 1_000_000]),
        ("zstd1", zstd1, [1_000_000]), ("zstd3-no-delta", noDelta, [1_000_000]),
    ]
    for (label, options, sizes) in cases {
        for rows in sizes {
            let name = "write-\(label)-\(rows >= 1_000_000 ? "\(rows / 1_000_000)M" : "\(rows / 1000)k")"
            let file = ScratchFile("\(name).parquet")
            Benchmark(name) { (benchmark: Benchmark, batch: [ColumnBatch]) in
                let start = ContinuousClock.now
                let writer = try ParquetWriter(path: file.path, columns: CountsTable.columns, options: options)
                try writer.append(batch)
                let info = try writer.close()
                let elapsed = seconds(since: start)
                benchmark.measurement(TallyMetric.nanosecondsPerRow, Int(elapsed * 1e9 / Double(rows)))
                benchmark.measurement(TallyMetric.outputMegabytesPerSecond, Int(Double(info.bytes) / 1e6 / elapsed))
                benchmark.measurement(TallyMetric.fileBytes, info.bytes)
            } setup: {
                CountsTable.batch(rows: rows)
            } teardown: {
                file.remove()
            }
        }
    }
}
