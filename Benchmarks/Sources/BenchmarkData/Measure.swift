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
    /// Output megabytes per second, 10⁶ bytes.
    public static let outputMegabytesPerSecond = BenchmarkMetric.custom("MB/s (file)", polarity: .prefersLarger, useScalingFactor: false)
}

/// Seconds since `start`.
public func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
}
