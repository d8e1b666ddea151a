import Dispatch
import Foundation

/// The order that sorts `keys` ascending (a permutation of their indices): a stable radix sort
/// (see `RadixPlan`) moving each key with its index.
///
/// The keys are consumed: given a temporary (or `consume`d), their storage becomes one of the
/// sort's two copies instead of being copied. The sorted keys come back with the order. `parts` and
/// `bucketed` are for tests: by default they follow the number of keys and of cores.
func radixSort(_ keys: consuming [UInt64], parts: Int? = nil, bucketed: Bool? = nil) -> (order: [Int32], sorted: [UInt64]) {
    let n = keys.count
    var keys = keys
    var order = (0..<Int32(n)).map { $0 }
    let plan = RadixPlan(keys, bucketed: bucketed)
    guard plan.passes > 0 else { return (order, keys) }
    var scratchOrder: [Int32] = []
    var scratchKeys: [UInt64] = scratch(n) { scratchKeys in
        scratchOrder = scratch(n) { scratchOrder in
            keys.withUnsafeMutableBufferPointer { keys in
            order.withUnsafeMutableBufferPointer { order in
                plan.sort(KeysAndOrder(keys: Copies(keys, scratchKeys), order: Copies(order, scratchOrder)),
                          count: n, parts: parts ?? Slices.count(forRows: n))
            } }
        }
    }
    if plan.passes % 2 == 1 {
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
func radixSortRows(keys: inout [UInt64], counts: inout [Int64], sums: inout [Double], width: Int,
                   parts: Int? = nil, bucketed: Bool? = nil) {
    let n = keys.count
    precondition(counts.count == n && sums.count == n * width)
    let plan = RadixPlan(keys, bucketed: bucketed)
    guard plan.passes > 0 else { return }
    var scratchCounts: [Int64] = [], scratchSums: [Double] = []
    var scratchKeys: [UInt64] = scratch(n) { scratchKeys in
        scratchCounts = scratch(n) { scratchCounts in
            scratchSums = scratch(n * width) { scratchSums in
                keys.withUnsafeMutableBufferPointer { keys in
                counts.withUnsafeMutableBufferPointer { counts in
                sums.withUnsafeMutableBufferPointer { sums in
                    plan.sort(KeysAndSums(keys: Copies(keys, scratchKeys), counts: Copies(counts, scratchCounts),
                                          sums: Copies(sums, scratchSums), width: width),
                              count: n, parts: parts ?? Slices.count(forRows: n))
                } } }
            }
        }
    }
    if plan.passes % 2 == 1 {
        swap(&keys, &scratchKeys)
        swap(&counts, &scratchCounts)
        swap(&sums, &scratchSums)
    }
}

// MARK: The passes

/// A sort's scratch copy of `count` elements, made by `sort`, which writes every one of them (its
/// first pass moves every row there): never filled with zeros first, which for B2's two sorts of
/// 8–10M rows took 0.1 s.
private func scratch<Element>(_ count: Int, sort: (UnsafeMutableBufferPointer<Element>) -> Void) -> [Element] {
    [Element](unsafeUninitializedCapacity: count) { buffer, initialized in
        sort(buffer)
        initialized = count
    }
}

/// The width of a pass's digit. 2048 buckets: the places a pass scatters to stay in cache, where
/// 16-bit digits (65536 buckets) took 30% longer over 10M pair keys, for one pass fewer.
private let digitBits = 11
private let radix = 1 << digitBits

/// The fewest rows sorted in buckets (`RadixPlan`): 2048 rows a bucket on average, so that
/// clearing a bucket's digit counts costs less than its rows.
private let bucketedRows = 1 << 22

/// The passes of a stable radix sort over 64-bit keys, on the bits where the keys differ only.
///
/// LSD passes, each on the lowest varying bits the ones before it leave, so bits that never vary
/// (the 12 between the two ids of a pair key, the zeros above small ids) cost no pass. For many
/// rows, the first pass is instead on the highest digit (MSD): it splits the rows into buckets
/// by their high bits, and the LSD passes then sort each bucket on its own, within the cache,
/// instead of sweeping every row through memory each time (B2's two sorts of 8–10M pair keys:
/// 0.65 → 0.42 s of CPU).
/// Either way, after an odd number of passes the sorted rows are in the second copy.
private struct RadixPlan {
    /// The bucketing pass's shift, when there is one.
    let bucketShift: UInt64?
    /// The LSD passes' shifts (within each bucket, when bucketed).
    let shifts: [UInt64]

    var passes: Int { shifts.count + (bucketShift == nil ? 0 : 1) }

    init(_ keys: [UInt64], bucketed: Bool?) {
        let varying = keys.first.map { first in keys.reduce(0) { $0 | ($1 ^ first) } } ?? 0
        let highest = 63 - varying.leadingZeroBitCount
        if varying != 0, bucketed ?? (keys.count >= bucketedRows) {
            let top = UInt64(max(0, highest - (digitBits - 1)))
            bucketShift = top
            shifts = Self.lsdShifts(varying & ((1 << top) - 1))
        } else {
            bucketShift = nil
            shifts = Self.lsdShifts(varying)
        }
    }

    private static func lsdShifts(_ varying: UInt64) -> [UInt64] {
        var rest = varying
        var shifts: [UInt64] = []
        while rest != 0 {
            let shift = rest.trailingZeroBitCount
            shifts.append(UInt64(shift))
            let covered = shift + digitBits
            rest = covered >= 64 ? 0 : (rest >> UInt64(covered)) << UInt64(covered)
        }
        return shifts
    }

    /// Sorts `count` rows on `parts` threads (the result does not depend on how many).
    func sort<Rows: RadixRows>(_ rows: Rows, count: Int, parts: Int) {
        let places = UncheckedSendable(UnsafeMutablePointer<Int>.allocate(capacity: parts * radix))
        defer { places.value.deallocate() }
        guard let bucketShift else {
            var rows = rows
            for shift in shifts {
                radixPass(rows, 0..<count, shift: shift, parts: parts, places: places.value)
                rows = rows.swapped
            }
            return
        }
        let starts = UncheckedSendable(UnsafeMutablePointer<Int>.allocate(capacity: radix + 1))
        defer { starts.value.deallocate() }
        radixPass(rows, 0..<count, shift: bucketShift, parts: parts, places: places.value, digitStarts: starts.value)
        let bucketed = rows.swapped, shifts = shifts
        @Sendable func sortBucket(_ bucket: Int, parts: Int, places: UnsafeMutablePointer<Int>) {
            var rows = bucketed
            for shift in shifts {
                radixPass(rows, starts.value[bucket]..<starts.value[bucket + 1], shift: shift, parts: parts, places: places)
                rows = rows.swapped
            }
        }
        // A bucket of more than a slice's share of the rows (the high digit splits skewed keys
        // badly) is sorted on every thread, one such bucket after another; each slice then sorts
        // the other buckets that start among its share of the rows.
        let share: @Sendable (Int) -> Range<Int> = { part in Slices.slice(part, of: parts, rows: count) }
        let isLarge: @Sendable (Int) -> Bool = { bucket in starts.value[bucket + 1] - starts.value[bucket] > share(0).count }
        for bucket in 0..<radix where parts > 1 && isLarge(bucket) {
            sortBucket(bucket, parts: parts, places: places.value)
        }
        Slices.forEach(parts) { part in
            for bucket in 0..<radix where share(part).contains(starts.value[bucket]) && !isLarge(bucket)
                && starts.value[bucket] < starts.value[bucket + 1] {
                sortBucket(bucket, parts: 1, places: places.value + part * radix)
            }
        }
    }
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

/// One stable pass over the rows in `range`, on the digit at `shift`: moves them to the same
/// range of the other copy, in digit order. With `digitStarts`, also gives where each digit's
/// rows start there (and the range's end after the last).
///
/// It counts the digits of `parts` contiguous slices of the range at once (in `places`, `radix`
/// counters a slice), then each slice scatters its rows to the places the counts give it: after
/// every row of a smaller digit and after the earlier slices' rows of the same digit. That is the
/// order one slice gives, so the result is the same on any number of threads.
private func radixPass<Rows: RadixRows>(_ rows: Rows, _ range: Range<Int>, shift: UInt64, parts: Int,
                                        places: UnsafeMutablePointer<Int>, digitStarts: UnsafeMutablePointer<Int>? = nil) {
    let mask = UInt64(radix - 1)
    let bounds = Slices.bounds(parts, of: range)
    let shared = UncheckedSendable(places)
    Slices.forEach(parts) { part in
        let counts = shared.value + part * radix
        counts.initialize(repeating: 0, count: radix)
        for row in bounds[part]..<bounds[part + 1] { counts[Int((rows.key(row) >> shift) & mask)] += 1 }
    }
    var next = range.lowerBound
    for digit in 0..<radix {
        digitStarts?[digit] = next
        for part in 0..<parts {
            let place = places + part * radix + digit
            (place.pointee, next) = (next, next + place.pointee)
        }
    }
    digitStarts?[radix] = range.upperBound
    Slices.forEach(parts) { part in
        let next = shared.value + part * radix
        for row in bounds[part]..<bounds[part + 1] {
            let digit = Int((rows.key(row) >> shift) & mask)
            rows.move(row, to: next[digit])
            next[digit] += 1
        }
    }
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
