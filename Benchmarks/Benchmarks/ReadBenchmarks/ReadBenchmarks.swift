import Benchmark
import BenchmarkData
import Tally

// The read stage: zstd decompression, record framing into ~1 MiB batches, and field splitting
// (CSVFieldParser), over a seeded ~32 MB log compressed at level 3 on tmpfs.

/// Rows of the log: about 46 bytes each, so about 32 MB of CSV and 32 batches of 1 MiB.
let logRows = 700_000
let log = InteractionLog(rows: logRows).csv()
let compressedLog = Zstd.compress(log)

/// Reads every batch of `file`; with `split`, also splits each into fields. Returns (batches, rows).
func readAll(_ file: InputFile, split: Bool) throws -> (batches: Int, rows: Int) {
    let reader = try RecordReader(file: file, fileIndex: 0)
    let parser = CSVFieldParser()
    var batches = 0, rows = 0
    while let batch = try reader.next() {
        batches += 1
        rows += batch.count
        if split { blackHole(try parser.parse(batch)) } else { blackHole(batch) }
    }
    return (batches, rows)
}

/// A single-batch file of `rows` rows, read and framed, ready to split.
func oneBatch(rows: Int, file: ScratchFile) throws -> RecordBatch {
    try file.write(InteractionLog(rows: rows).csv())
    var options = RecordReader.Options()
    options.targetBatchBytes = 64 << 20   // the largest batch: every benchmark batch fits in one
    let reader = try RecordReader(file: file.inputFile, fileIndex: 0, options: options)
    return try reader.next()!
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 20,
        thresholds: allocationThresholds
    )
    // No resident-memory metric: its sampling thread allocates, and would blur the malloc counts.
    let fileMetrics: [BenchmarkMetric] = [.wallClock, TallyMetric.megabytesPerSecond, .mallocCountTotal, TallyMetric.batches]

    for split in [false, true] {
        let name = split ? "read-frame-split-32MB" : "read-frame-32MB"
        let file = ScratchFile("\(name).csv.zst")
        Benchmark(name, configuration: .init(metrics: fileMetrics)) { benchmark in
            let start = ContinuousClock.now
            let (batches, _) = try readAll(file.inputFile, split: split)
            benchmark.measurement(TallyMetric.megabytesPerSecond, Int(Double(log.count) / 1e6 / seconds(since: start)))
            benchmark.measurement(TallyMetric.batches, batches)
        } setup: {
            try file.write(compressedLog)
        } teardown: {
            file.remove()
        }
    }

    // Splitting one batch: the allocations per batch should not grow with the rows in it.
    for rows in [20_000, 80_000] {
        let file = ScratchFile("split-\(rows).csv")
        Benchmark("split-\(rows / 1000)k",
                  configuration: .init(metrics: [.wallClock, TallyMetric.nanosecondsPerRow, .mallocCountTotal],
                                       timeUnits: .microseconds, maxIterations: 200)) { (benchmark: Benchmark, batch: RecordBatch) in
            let parser = CSVFieldParser()
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            blackHole(try parser.parse(batch))
            benchmark.measurement(TallyMetric.nanosecondsPerRow, Int(seconds(since: start) * 1e9 / Double(batch.count)))
        } setup: {
            try oneBatch(rows: rows, file: file)
        } teardown: {
            file.remove()
        }
    }
}
