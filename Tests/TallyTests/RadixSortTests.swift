import Testing
@testable import Tally

/// The radix sorts against the standard library's stable sort: on keys shaped like the
/// counter's (two fields 32 bits apart, as a pair key, constant bits between and above them,
/// every key repeated), and on byte strings.
@Suite struct RadixSortTests {
    /// `n` keys: a `highBits`-bit field at bit 32 and a `lowBits`-bit field at bit 0, with the
    /// bits between them and above them fixed to `constant`'s, and many repeats.
    static func keys(_ n: Int, highBits: UInt64, lowBits: UInt64, constant: UInt64, seed: UInt64) -> [UInt64] {
        var generator = SplitMix(seed: seed)
        let fields: UInt64 = ((1 << highBits) - 1) << 32 | ((1 << lowBits) - 1)
        let distinct = (0..<max(1, n / 3)).map { _ in generator.next() & fields | constant & ~fields }
        return (0..<n).map { _ in distinct[Int(generator.next() % UInt64(distinct.count))] }
    }

    /// On one slice and on several (a pass's slices run on threads of their own), including more
    /// slices than some digits have rows; with LSD passes only, and bucketed by an MSD pass first.
    @Test(arguments: [(19, 20, 0), (19, 20, 0xF0F0_0000_0AB0_0000), (3, 12, 0xFFFF_0000_FFFF_0000), (0, 20, 0x1234_0000), (16, 16, 0), (32, 32, 0), (0, 7, 0)] as [(UInt64, UInt64, UInt64)])
    func sortingRowsIsAStableSortByKey(highBits: UInt64, lowBits: UInt64, constant: UInt64) {
        let keys = Self.keys(5000, highBits: highBits, lowBits: lowBits, constant: constant, seed: highBits &+ lowBits &+ constant)
        let reference = keys.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
        for parts in [1, 2, 3, 8] {
            for bucketed in [false, true] {
                let how = "\(parts) parts, \(bucketed ? "bucketed" : "LSD only")"
                var sorted = keys, counts = keys.indices.map(Int64.init), sums = keys.indices.flatMap { [Double($0), -Double($0)] }
                radixSortRows(keys: &sorted, counts: &counts, sums: &sums, width: 2, parts: parts, bucketed: bucketed)
                #expect(sorted == reference.map { keys[$0] }, "\(how)")
                #expect(counts == reference.map(Int64.init), "\(how)")
                #expect(sums == reference.flatMap { [Double($0), -Double($0)] }, "\(how)")
                let (order, sortedKeys) = radixSort(keys, parts: parts, bucketed: bucketed)
                #expect(order == reference.map(Int32.init), "\(how)")
                #expect(sortedKeys == reference.map { keys[$0] }, "\(how)")
            }
        }
    }

    /// Enough rows for a sort to split its passes over threads, and its rows into buckets, by
    /// itself: checked as a stable sort is defined (keys ascending, equal keys in their first
    /// order, every row once), which is cheaper than sorting this many again.
    @Test func aLargeSortIsAStableSortByKey() {
        let keys = Self.keys(1 << 22, highBits: 19, lowBits: 20, constant: 0, seed: 11)
        var sorted = keys, rows = keys.indices.map(Int64.init), sums = keys.indices.map(Double.init)
        radixSortRows(keys: &sorted, counts: &rows, sums: &sums, width: 1)
        var seen = [Bool](repeating: false, count: keys.count)
        var ordered = true
        for (position, row) in rows.enumerated() {
            seen[Int(row)] = true
            ordered = ordered && sorted[position] == keys[Int(row)] && sums[position] == Double(row)
            if position > 0 {
                ordered = ordered && (sorted[position - 1], rows[position - 1]) < (sorted[position], row)
            }
        }
        #expect(ordered)
        #expect(!seen.contains(false))
        #expect(radixOrder(keys).map(Int64.init) == rows)
    }

    /// Keys whose high digit is nearly always the same (`UInt64.max − count` over Zipf-like
    /// counts, as a vocabulary orders by frequency): one bucket holds most rows, and is sorted on
    /// every slice instead of one.
    @Test func skewedKeysAreSortedInOneLargeBucket() {
        var generator = SplitMix(seed: 5)
        let keys = (0..<6000).map { _ -> UInt64 in
            let draw = generator.next() % 1000
            return UInt64.max - (draw < 990 ? draw % 7 : 1 << (12 + draw % 9))
        }
        let reference = keys.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
        for parts in [1, 2, 3] {
            let (order, sorted) = radixSort(keys, parts: parts, bucketed: true)
            #expect(order == reference.map(Int32.init), "\(parts) parts")
            #expect(sorted == reference.map { keys[$0] }, "\(parts) parts")
        }
    }

    /// Keys all equal, or a single one: nothing to sort.
    @Test func keysThatNeverDifferStayInPlace() {
        var keys: [UInt64] = [7, 7, 7], counts: [Int64] = [1, 2, 3], sums = [0.5, 1.5, 2.5]
        radixSortRows(keys: &keys, counts: &counts, sums: &sums, width: 1, parts: 2)
        #expect(counts == [1, 2, 3] && sums == [0.5, 1.5, 2.5])
        #expect(radixOrder([42]) == [0])
        #expect(radixOrder([]) == [])
    }

    /// Byte strings that share long prefixes, agree on their first 16 bytes or differ only past
    /// them, or only in length, and repeat: ordered as a stable sort by bytes orders them.
    @Test func orderingByteStringsIsAStableSortByBytes() {
        var generator = SplitMix(seed: 7)
        let prefixes: [[UInt8]] = [[], Array("sku-0000".utf8), Array("sku-0000000000000000".utf8), [0, 0, 0]]
        let distinct = (0..<800).map { _ -> [UInt8] in
            let prefix = prefixes[Int(generator.next() % UInt64(prefixes.count))]
            return prefix + (0..<Int(generator.next() % 12)).map { _ in UInt8(generator.next() % 3) }
        }
        let strings = (0..<3000).map { _ in distinct[Int(generator.next() % UInt64(distinct.count))] }
        let reference = strings.indices.sorted { a, b in
            strings[a] != strings[b] ? strings[a].lexicographicallyPrecedes(strings[b]) : a < b
        }
        let order = byteStringOrder(strings.count, word: { i, from in
            strings[i].withUnsafeBytes { bigEndianWord($0, from: from) }
        }, precedes: { strings[$0].lexicographicallyPrecedes(strings[$1]) })
        #expect(order == reference.map(Int32.init))
    }
}
