import Testing
@testable import Tally

/// The radix sorts against the standard library's stable sort, on keys shaped like the
/// counter's: two fields 32 bits apart (a pair key), constant bits between and above them, and
/// every key repeated.
@Suite struct RadixSortTests {
    /// `n` keys: a `highBits`-bit field at bit 32 and a `lowBits`-bit field at bit 0, with the
    /// bits between them and above them fixed to `constant`'s, and many repeats.
    static func keys(_ n: Int, highBits: UInt64, lowBits: UInt64, constant: UInt64, seed: UInt64) -> [UInt64] {
        var generator = SplitMix(seed: seed)
        let fields: UInt64 = ((1 << highBits) - 1) << 32 | ((1 << lowBits) - 1)
        let distinct = (0..<max(1, n / 3)).map { _ in generator.next() & fields | constant & ~fields }
        return (0..<n).map { _ in distinct[Int(generator.next() % UInt64(distinct.count))] }
    }

    @Test(arguments: [(19, 20, 0), (19, 20, 0xF0F0_0000_0AB0_0000), (3, 12, 0xFFFF_0000_FFFF_0000), (0, 20, 0x1234_0000), (16, 16, 0)] as [(UInt64, UInt64, UInt64)])
    func sortingRowsIsAStableSortByKey(highBits: UInt64, lowBits: UInt64, constant: UInt64) {
        let keys = Self.keys(5000, highBits: highBits, lowBits: lowBits, constant: constant, seed: highBits &+ lowBits &+ constant)
        let reference = keys.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
        var sorted = keys, counts = keys.indices.map(Int64.init), sums = keys.indices.flatMap { [Double($0), -Double($0)] }
        radixSortRows(keys: &sorted, counts: &counts, sums: &sums, width: 2)
        #expect(sorted == reference.map { keys[$0] })
        #expect(counts == reference.map(Int64.init))
        #expect(sums == reference.flatMap { [Double($0), -Double($0)] })
        #expect(radixOrder(keys) == reference.map(Int32.init))
    }
}
