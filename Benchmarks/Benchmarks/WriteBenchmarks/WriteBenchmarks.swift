import Benchmark
import BenchmarkData
import Parquet

// The Parquet writer on a counts-like table (item INT32, item_id STRING nullable, count INT64,
// value and grad DOUBLE): create, append one batch, close (footer and fsync), on tmpfs.
// One iteration is one file; 1M rows is one row group.

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, TallyMetric.nanosecondsPerRow, TallyMetric.outputMegabytesPerSecond, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 10,
        thresholds: allocationThresholds
    )

    let cases: [(String, ParquetWriterOptions.Compression)] = [("zstd3", .zstd(level: 3)), ("plain", .none)]
    for (label, compression) in cases {
        for rows in [250_000, 1_000_000] {
            let name = "write-\(label)-\(rows >= 1_000_000 ? "\(rows / 1_000_000)M" : "\(rows / 1000)k")"
            let file = ScratchFile("\(name).parquet")
            Benchmark(name) { (benchmark: Benchmark, batch: [ColumnBatch]) in
                var options = ParquetWriterOptions()
                options.compression = compression
                let start = ContinuousClock.now
                let writer = try ParquetWriter(path: file.path, columns: CountsTable.columns, options: options)
                try writer.append(batch)
                let info = try writer.close()
                let elapsed = seconds(since: start)
                benchmark.measurement(TallyMetric.nanosecondsPerRow, Int(elapsed * 1e9 / Double(rows)))
                benchmark.measurement(TallyMetric.outputMegabytesPerSecond, Int(Double(info.bytes) / 1e6 / elapsed))
            } setup: {
                CountsTable.batch(rows: rows)
            } teardown: {
                file.remove()
            }
        }
    }
}
