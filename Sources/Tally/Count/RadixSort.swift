/// The order that sorts `keys` ascending (a permutation of their indices): an LSD radix sort,
/// 16 bits a pass, skipping the passes whose digit is the same for every key. Each pass reads
/// the keys in their current order (they move with their indices), so only the writes scatter.
/// O(n) per pass, and stable, so equal keys keep their order.
///
/// The keys are consumed: given a temporary (or `consume`d), their storage becomes the sort's
/// scratch instead of being copied. The sorted keys come back with the order.
func radixSort(_ keys: consuming [UInt64]) -> (order: [Int32], sorted: [UInt64]) {
    let n = keys.count
    var order = (0..<Int32(n)).map { $0 }
    guard n > 1 else { return (order, keys) }
    let first = keys[0]
    let varying = keys.reduce(0) { $0 | ($1 ^ first) }
    var current = consume keys
    var scratchOrder = [Int32](), scratchKeys = [UInt64]()
    var counts = [Int](repeating: 0, count: 1 << 16)
    for pass in 0..<4 {
        let shift = UInt64(16 * pass)
        guard (varying >> shift) & 0xFFFF != 0 else { continue }
        if scratchOrder.isEmpty {
            scratchOrder = [Int32](repeating: 0, count: n)
            scratchKeys = [UInt64](repeating: 0, count: n)
        }
        for i in counts.indices { counts[i] = 0 }
        for key in current { counts[Int((key >> shift) & 0xFFFF)] += 1 }
        var total = 0
        for i in counts.indices { (counts[i], total) = (total, total + counts[i]) }
        for position in 0..<n {
            let key = current[position]
            let digit = Int((key >> shift) & 0xFFFF)
            scratchOrder[counts[digit]] = order[position]
            scratchKeys[counts[digit]] = key
            counts[digit] += 1
        }
        swap(&order, &scratchOrder)
        swap(&current, &scratchKeys)
    }
    return (order, current)
}

/// The order that sorts `keys` ascending; see `radixSort`.
func radixOrder(_ keys: consuming [UInt64]) -> [Int32] {
    radixSort(keys).order
}

/// Sorts rows by key, ascending and stably, moving each row's count and `width` sums with its
/// key: the same LSD passes as `radixSort`, but the rows arrive sorted, with no gather through
/// an order afterwards (which, over millions of rows, misses the cache on every row) and no
/// array besides one scratch copy.
func radixSortRows(keys: inout [UInt64], counts: inout [Int64], sums: inout [Double], width: Int) {
    let n = keys.count
    precondition(counts.count == n && sums.count == n * width)
    guard n > 1, let first = keys.first else { return }
    let varying = keys.reduce(0) { $0 | ($1 ^ first) }
    var scratchKeys = [UInt64](), scratchCounts = [Int64](), scratchSums = [Double]()
    var histogram = [Int](repeating: 0, count: 1 << 16)
    for pass in 0..<4 {
        let shift = UInt64(16 * pass)
        guard (varying >> shift) & 0xFFFF != 0 else { continue }
        if scratchKeys.isEmpty {
            scratchKeys = [UInt64](repeating: 0, count: n)
            scratchCounts = [Int64](repeating: 0, count: n)
            scratchSums = [Double](repeating: 0, count: n * width)
        }
        for i in histogram.indices { histogram[i] = 0 }
        for key in keys { histogram[Int((key >> shift) & 0xFFFF)] += 1 }
        var total = 0
        for i in histogram.indices { (histogram[i], total) = (total, total + histogram[i]) }
        keys.withUnsafeBufferPointer { keys in
        counts.withUnsafeBufferPointer { counts in
        sums.withUnsafeBufferPointer { sums in
        scratchKeys.withUnsafeMutableBufferPointer { toKeys in
        scratchCounts.withUnsafeMutableBufferPointer { toCounts in
        scratchSums.withUnsafeMutableBufferPointer { toSums in
            for row in 0..<n {
                let digit = Int((keys[row] >> shift) & 0xFFFF)
                let target = histogram[digit]
                histogram[digit] = target + 1
                toKeys[target] = keys[row]
                toCounts[target] = counts[row]
                for c in 0..<width { toSums[target &* width &+ c] = sums[row &* width &+ c] }
            }
        } } } } } }
        swap(&keys, &scratchKeys)
        swap(&counts, &scratchCounts)
        swap(&sums, &scratchSums)
    }
}

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
