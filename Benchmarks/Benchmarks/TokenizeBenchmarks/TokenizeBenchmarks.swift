import Benchmark
import BenchmarkData
import Tally

// The tokenize stage on one parsed batch (ids → local ids, weights, times), alone and followed by
// the counter. One iteration is one batch, so `mallocCountTotal` is the allocations per batch;
// each case runs at 20k rows (about 1 MiB, the run's batch size) and at 80k rows. With no
// allocation per row the two counts are equal, up to a few geometric regrowths of per-batch arrays.

/// A batch of `rows` rows, parsed, and the stages of `pipeline` for its file.
struct Prepared: Sendable {
    var parsed: ParsedBatch
    var stages: BatchStages
    var path: String
}

func prepare(rows: Int, longEventNames: Bool, key: String, weight: Pipelines.Weight, file: ScratchFile) throws -> Prepared {
    var log = InteractionLog(rows: rows)
    if longEventNames { log.events = InteractionLog.longEventNames }
    try file.write(log.csv())
    var options = RecordReader.Options()
    options.targetBatchBytes = 64 << 20   // the largest batch: every benchmark batch fits in one
    let input = file.inputFile
    let reader = try RecordReader(file: input, fileIndex: 0, options: options)
    let pipeline = try Pipelines.make(key: key, weight: weight, folder: "/")
    let stages = try BatchStages(pipeline: pipeline, reader: reader)
    let parsed = try CSVFieldParser().parse(try reader.next()!)
    let totals = stages.tokenize(parsed, path: input.displayPath)
    precondition(totals.rowsKept == rows && totals.badRows == 0, "the generated log should tokenize cleanly: \(totals)")
    return Prepared(parsed: parsed, stages: stages, path: input.displayPath)
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, TallyMetric.nanosecondsPerRow, .mallocCountTotal, .memoryLeakedBytes],
        timeUnits: .microseconds,
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 200,
        thresholds: allocationThresholds
    )

    struct Case {
        var name: String
        var key = "[item]"
        var weight = Pipelines.Weight.column
        var longEventNames = false
        var count = false
    }
    let cases = [
        // weight: {column: weight}, key [item].
        Case(name: "tokenize-column"),
        // weight: {events: ...} with event names of at most 15 UTF-8 bytes (view, click, cart, purchase).
        Case(name: "tokenize-events-short", weight: .events),
        // The same with names longer than 15 bytes (purchase_completed, …).
        Case(name: "tokenize-events-long", weight: .events, longEventNames: true),
        // Tokenize, then count (user, item) pairs: the whole per-batch work of a run after parsing.
        Case(name: "tokenize-count-user-item", key: "[user, item]", count: true),
    ]
    for c in cases {
        for rows in [20_000, 80_000] {
            let file = ScratchFile("tokenize-\(rows)-\(c.longEventNames ? "long" : "short").csv")
            Benchmark("\(c.name)-\(rows / 1000)k") { (benchmark: Benchmark, prepared: Prepared) in
                let start = ContinuousClock.now
                let totals = c.count ? prepared.stages.tokenizeAndCount(prepared.parsed, path: prepared.path)
                                     : prepared.stages.tokenize(prepared.parsed, path: prepared.path)
                benchmark.measurement(TallyMetric.nanosecondsPerRow, Int(seconds(since: start) * 1e9 / Double(rows)))
                blackHole(totals)
            } setup: {
                defer { file.remove() }
                return try prepare(rows: rows, longEventNames: c.longEventNames, key: c.key, weight: c.weight, file: file)
            }
        }
    }
}
