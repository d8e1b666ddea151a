import Dispatch
import Foundation

/// The order that sorts `keys` ascending (a permutation of their indices): a stable LSD radix
/// sort (see `sortRows`) moving each key with its index.
///
/// The keys are consumed: given a temporary (or `consume`d), their storage becomes the sort's
/// scratch instead of being copied. The sorted keys come back with the order.
func radixSort(_ keys: consuming [UInt64], parts: Int? = nil) -> (order: [Int32], sorted: [UInt64]) {
    let n = keys.count
    var keys = keys
    var order = (0..<Int32(n)).map { $0 }
    let shifts = passShifts(keys)
    guard !shifts.isEmpty else { return (order, keys) }
    var scratchKeys = [UInt64](repeating: 0, count: n), scratchOrder = [Int32](repeating: 0, count: n)
    keys.withUnsafeMutableBufferPointer { keys in
    order.withUnsafeMutableBufferPointer { order in
    scratchKeys.withUnsafeMutableBufferPointer { scratchKeys in
    scratchOrder.withUnsafeMutableBufferPointer { scratchOrder in
        sortRows(KeysAndOrder(keys: Copies(keys, scratchKeys), order: Copies(order, scratchOrder)),
                 count: n, shifts: shifts, parts: parts ?? radixParts(n))
    } } } }
    if shifts.count % 2 == 1 {
        swap(&keys, &scratchKeys)
        swap(&order, &scratchOrder)
    }
    return (order, keys)
}

/// The order that sorts `keys` ascending; see `radixSort`.
func radixOrder(_ keys: consuming [UInt64]) -> [Int32] {
    radixSort(keys).order
}

/// Sorts rows by key, ascending and stably, moving each row's count and `width` sums with its
/// key: the rows arrive sorted, with no gather through an order afterwards (which, over millions
/// of rows, misses the cache on every row) and no array besides one scratch copy.
func radixSortRows(keys: inout [UInt64], counts: inout [Int64], sums: inout [Double], width: Int, parts: Int? = nil) {
    let n = keys.count
    precondition(counts.count == n && sums.count == n * width)
    let shifts = passShifts(keys)
    guard !shifts.isEmpty else { return }
    var scratchKeys = [UInt64](repeating: 0, count: n), scratchCounts = [Int64](repeating: 0, count: n)
    var scratchSums = [Double](repeating: 0, count: n * width)
    keys.withUnsafeMutableBufferPointer { keys in
    counts.withUnsafeMutableBufferPointer { counts in
    sums.withUnsafeMutableBufferPointer { sums in
    scratchKeys.withUnsafeMutableBufferPointer { scratchKeys in
    scratchCounts.withUnsafeMutableBufferPointer { scratchCounts in
    scratchSums.withUnsafeMutableBufferPointer { scratchSums in
        sortRows(KeysAndSums(keys: Copies(keys, scratchKeys), counts: Copies(counts, scratchCounts),
                             sums: Copies(sums, scratchSums), width: width),
                 count: n, shifts: shifts, parts: parts ?? radixParts(n))
    } } } } } }
    if shifts.count % 2 == 1 {
        swap(&keys, &scratchKeys)
        swap(&counts, &scratchCounts)
        swap(&sums, &scratchSums)
    }
}

// MARK: The passes

/// The width of a pass's digit. 2048 buckets: the places a pass scatters to stay in cache, where
/// 16-bit digits (65536 buckets) took 30% longer over 10M pair keys, for one pass fewer.
private let digitBits = 11

/// The fewest rows worth a thread of their own in a pass.
private let rowsPerPart = 1 << 16

private let processors = max(1, ProcessInfo.processInfo.activeProcessorCount)

/// How many slices a sort of `count` rows runs its passes on: one per core, each of at least
/// `rowsPerPart` rows. The result does not depend on it.
private func radixParts(_ count: Int) -> Int {
    min(processors, max(1, count / rowsPerPart))
}

/// The shift of each LSD pass over `keys`: each digit starts at the lowest bit that varies among
/// the keys and that the digits before it leave, so bits that never vary (the 12 between the two
/// ids of a pair key, the zeros above small ids) cost no pass.
private func passShifts(_ keys: [UInt64]) -> [UInt64] {
    guard let first = keys.first else { return [] }
    var rest = keys.reduce(0) { $0 | ($1 ^ first) }
    var shifts: [UInt64] = []
    while rest != 0 {
        let shift = rest.trailingZeroBitCount
        shifts.append(UInt64(shift))
        let covered = shift + digitBits
        rest = covered >= 64 ? 0 : (rest >> UInt64(covered)) << UInt64(covered)
    }
    return shifts
}

/// What a radix sort moves: each row's key and what goes with it, in two copies of the same size,
/// one that a pass reads and one that it scatters into, which swap roles for the next pass.
/// Pointers into arrays that outlive the sort, so that a pass's slices, on different threads,
/// write disjoint rows of the same arrays.
private protocol RadixRows: Sendable {
    /// The key of `row` in the copy being read.
    func key(_ row: Int) -> UInt64
    /// Copies `row` of the copy being read to `target` in the other.
    func move(_ row: Int, to target: Int)
    /// The same rows, with the copies' roles swapped.
    var swapped: Self { get }
}

/// Sorts `count` rows stably by key, one LSD pass per shift; after an odd number of passes the
/// sorted rows are in the second copy.
///
/// Each pass counts the digits of `parts` contiguous slices of the rows at once, then each slice
/// scatters its rows to the places the counts give it: after every row of a smaller digit and
/// after the earlier slices' rows of the same digit. That is the order one slice gives, so the
/// result is the same on any number of threads.
private func sortRows<Rows: RadixRows>(_ rows: Rows, count: Int, shifts: [UInt64], parts: Int) {
    let radix = 1 << digitBits, mask = UInt64(radix - 1)
    let bounds = (0...parts).map { count * $0 / parts }
    // Slice `part`'s count, then next place, of each digit.
    let places = UncheckedSendable(UnsafeMutablePointer<Int>.allocate(capacity: parts * radix))
    defer { places.value.deallocate() }
    var rows = rows
    for shift in shifts {
        let reading = rows
        eachPart(parts) { part in
            let counts = places.value + part * radix
            counts.initialize(repeating: 0, count: radix)
            for row in bounds[part]..<bounds[part + 1] { counts[Int((reading.key(row) >> shift) & mask)] += 1 }
        }
        var next = 0
        for digit in 0..<radix {
            for part in 0..<parts {
                let place = places.value + part * radix + digit
                (place.pointee, next) = (next, next + place.pointee)
            }
        }
        eachPart(parts) { part in
            let next = places.value + part * radix
            for row in bounds[part]..<bounds[part + 1] {
                let digit = Int((reading.key(row) >> shift) & mask)
                reading.move(row, to: next[digit])
                next[digit] += 1
            }
        }
        rows = rows.swapped
    }
}

/// Runs `body` for each slice number: on as many threads when there are several.
private func eachPart(_ parts: Int, _ body: @Sendable (Int) -> Void) {
    if parts == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: parts, execute: body) }
}

/// An array's two copies during a sort: the one the pass reads, and the one it writes.
private struct Copies<Element>: @unchecked Sendable {
    var from: UnsafeMutablePointer<Element>
    var to: UnsafeMutablePointer<Element>

    init(_ from: UnsafeMutableBufferPointer<Element>, _ to: UnsafeMutableBufferPointer<Element>) {
        self.from = from.baseAddress!
        self.to = to.baseAddress!
    }

    private init(from: UnsafeMutablePointer<Element>, to: UnsafeMutablePointer<Element>) {
        (self.from, self.to) = (from, to)
    }

    var swapped: Copies { Copies(from: to, to: from) }
}

/// Keys with their original positions (`radixSort`).
private struct KeysAndOrder: RadixRows {
    var keys: Copies<UInt64>
    var order: Copies<Int32>

    func key(_ row: Int) -> UInt64 { keys.from[row] }

    func move(_ row: Int, to target: Int) {
        keys.to[target] = keys.from[row]
        order.to[target] = order.from[row]
    }

    var swapped: KeysAndOrder { KeysAndOrder(keys: keys.swapped, order: order.swapped) }
}

/// Keys with a count and `width` sums each (`radixSortRows`).
private struct KeysAndSums: RadixRows {
    var keys: Copies<UInt64>
    var counts: Copies<Int64>
    var sums: Copies<Double>
    let width: Int

    func key(_ row: Int) -> UInt64 { keys.from[row] }

    func move(_ row: Int, to target: Int) {
        keys.to[target] = keys.from[row]
        counts.to[target] = counts.from[row]
        for c in 0..<width { sums.to[target &* width &+ c] = sums.from[row &* width &+ c] }
    }

    var swapped: KeysAndSums { KeysAndSums(keys: keys.swapped, counts: counts.swapped, sums: sums.swapped, width: width) }
}

/// A value handed to the threads of `eachPart`, each of which touches only its own part of it.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

// MARK: Byte strings

/// The order that sorts `count` byte strings ascending (a permutation of 0..<count, stable):
/// radix passes over their first 16 bytes, given as big-endian words zero-padded by
/// `word(i, 0)` and `word(i, 8)`, then the strings that agree on those 16 bytes by `precedes`.
/// The words are read in index order (reading them in sorted order would miss the cache on
/// every string); the words at byte 0 are gathered into the first sort's order and their
/// index-order array let go before the second sort.
func byteStringOrder(_ count: Int, word: (Int, Int) -> UInt64, precedes: (Int, Int) -> Bool) -> [Int32] {
    // By string; kept for the ties, so the first sort copies it.
    let low = (0..<count).map { word($0, 8) }
    let byLow = radixOrder(low)
    let highByLow = { let high = (0..<count).map { word($0, 0) }; return byLow.map { high[Int($0)] } }()
    let (byHigh, sortedHigh) = radixSort(consume highByLow)
    var order = byHigh.map { byLow[Int($0)] }
    var start = 0
    while start < count {
        var end = start + 1
        while end < count, sortedHigh[end] == sortedHigh[start], low[Int(order[end])] == low[Int(order[start])] { end += 1 }
        if end - start > 1 { order[start..<end].sort { precedes(Int($0), Int($1)) } }
        start = end
    }
    return order
}

/// Bytes `from..<from + 8` of `bytes` as a big-endian word, zero-padded past the end.
@inline(__always)
func bigEndianWord(_ bytes: UnsafeRawBufferPointer, from: Int) -> UInt64 {
    var word: UInt64 = 0
    for i in from..<from + 8 { word = word << 8 | UInt64(i < bytes.count ? bytes[i] : 0) }
    return word
}
