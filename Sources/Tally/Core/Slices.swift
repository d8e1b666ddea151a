import Dispatch
import Foundation

/// Loops over millions of independent rows, split into contiguous slices run on every core:
/// the radix sort's passes, and the reducer's passes over the run's keys (`KeyTable`'s
/// `translateKeys` and `consolidate`, the key columns). The slices only decide which thread does
/// a row, never what it computes, so results do not depend on their number.
enum Slices {
    /// The cores the process may run on.
    static let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// The fewest rows worth a thread of their own.
    static let minimumRows = 1 << 16

    /// How many slices `count` rows are split into: one per core, each of at least
    /// `minimumRows` rows.
    static func count(forRows count: Int) -> Int {
        min(processors, max(1, count / minimumRows))
    }

    /// Where each of `parts` slices of `rows` starts, then where the last one ends.
    static func bounds(_ parts: Int, of rows: Range<Int>) -> [Int] {
        (0...parts).map { rows.lowerBound + rows.count * $0 / parts }
    }

    /// Slice `part` of `0..<count` split into `parts` slices.
    static func slice(_ part: Int, of parts: Int, rows count: Int) -> Range<Int> {
        count * part / parts..<count * (part + 1) / parts
    }

    /// Runs `body` for each slice number, on as many threads when there are several.
    static func forEach(_ parts: Int, _ body: @Sendable (Int) -> Void) {
        if parts == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
    }

    /// `transform(i)` for each i in `0..<count`, computed in slices on every core.
    static func map<T>(_ count: Int, _ transform: @Sendable (Int) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let target = UncheckedSendable(buffer)
            let parts = Self.count(forRows: count)
            forEach(parts) { part in
                for i in slice(part, of: parts, rows: count) { target.value.initializeElement(at: i, to: transform(i)) }
            }
            initialized = count
        }
    }
}

/// A value handed to the threads of a sliced loop, each of which touches only its own slice of
/// it.
struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
