import Foundation

/// Monotonic time, for stage timings and the progress line.
enum Clock {
    static var now: UInt64 { DispatchTime.now().uptimeNanoseconds }
    static func seconds(since start: UInt64) -> Double { Double(now - start) / 1e9 }
}

/// Seconds spent in each stage, summed over the threads that ran it (`summary.json` `seconds`).
///
/// Thread-safe. Guarded by an `NSLock`, not `Synchronization.Mutex`: with Swift 6.3 on Linux,
/// ThreadSanitizer cannot see `Mutex`'s lock and reports every access it guards as a race.
final class StageTimings: @unchecked Sendable {
    enum Stage: Int, CaseIterable {
        case read, tokenizeAndCount, fold, reduce, write

        /// The name in `summary.json`.
        var name: String {
            switch self {
            case .read: "read"
            case .tokenizeAndCount: "tokenize_count"
            case .fold: "fold"
            case .reduce: "reduce"
            case .write: "write"
            }
        }
    }

    private let lock = NSLock()
    /// Seconds per stage.
    private var totals = [Double](repeating: 0, count: Stage.allCases.count)

    func add(_ stage: Stage, _ seconds: Double) {
        lock.withLock { totals[stage.rawValue] += seconds }
    }

    func seconds(_ stage: Stage) -> Double {
        lock.withLock { totals[stage.rawValue] }
    }

    /// Times `body` as `stage`.
    func measure<T>(_ stage: Stage, _ body: () throws -> T) rethrows -> T {
        let started = Clock.now
        defer { add(stage, Clock.seconds(since: started)) }
        return try body()
    }
}
