import Benchmark

/// Metrics the benchmarks report besides the framework's own.
public enum TallyMetric {
    /// Decompressed (CSV) megabytes per second, 10⁶ bytes.
    public static let megabytesPerSecond = BenchmarkMetric.custom("MB/s (CSV)", polarity: .prefersLarger, useScalingFactor: false)
    /// Nanoseconds per row.
    public static let nanosecondsPerRow = BenchmarkMetric.custom("ns/row", polarity: .prefersSmaller, useScalingFactor: false)
    /// Record batches per iteration.
    public static let batches = BenchmarkMetric.custom("batches", polarity: .prefersSmaller, useScalingFactor: false)
    /// Rows per iteration.
    public static let rows = BenchmarkMetric.custom("rows", polarity: .prefersSmaller, useScalingFactor: false)
    /// The size of the file written, in bytes.
    public static let fileBytes = BenchmarkMetric.custom("file bytes", polarity: .prefersSmaller, useScalingFactor: false)
    /// Output megabytes per second, 10⁶ bytes.
    public static let outputMegabytesPerSecond = BenchmarkMetric.custom("MB/s (file)", polarity: .prefersLarger, useScalingFactor: false)
}

/// Seconds since `start`.
public func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}

/// The allocation check of `scripts/microbench --check`: each benchmark's mallocs per iteration
/// (`Thresholds/*.p90.json`) plus 16. The count is process-wide, so the harness's own threads and
/// Dispatch's (the writer's column encoders) add a few that vary from run to run; one allocation
/// per row would add 20k or more.
public var allocationThresholds: [BenchmarkMetric: BenchmarkThresholds] {
    [.mallocCountTotal: .init(absolute: [.p90: 16])]
}
