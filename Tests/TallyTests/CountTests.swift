import Foundation
import Testing
@testable import Tally

@Suite struct KernelTests {
    static func kernel(_ shape: Pipeline.TimeBins.Kernel, _ bandwidth: Double) -> Kernel {
        Kernel(Pipeline.TimeBins(width: 3600, origin: 0, kernel: shape, bandwidth: bandwidth, location: nil))
    }

    static let cases: [(Pipeline.TimeBins.Kernel, Double)] = [
        (.hard, 1), (.triangular, 0.51), (.triangular, 2.5), (.epanechnikov, 0.6), (.epanechnikov, 3),
        (.gaussian, 0.13), (.gaussian, 1.7),
    ]

    @Test(arguments: cases)
    func everyRowSpreadsExactlyItsWeightOverTheBins(_ shape: Pipeline.TimeBins.Kernel, _ bandwidth: Double) {
        let kernel = Self.kernel(shape, bandwidth)
        var bins: [Int64] = [], weights: [Double] = [], derivatives: [Double] = []
        for x in stride(from: -7.3, through: 7.3, by: 0.137) {
            let hard = kernel.spread(x, bins: &bins, weights: &weights, derivatives: &derivatives)
            #expect(hard == Int64(floor(x)))
            #expect(abs(weights.reduce(0, +) - 1) < 1e-14)
            #expect(abs(derivatives.reduce(0, +)) < 1e-12)   // the mass does not depend on h
            #expect(weights.allSatisfy { $0 > 0 })
        }
    }

    @Test(arguments: cases.filter { $0.0 != .hard })
    func theBandwidthDerivativeMatchesFiniteDifferences(_ shape: Pipeline.TimeBins.Kernel, _ bandwidth: Double) {
        var bins: [Int64] = [], weights: [Double] = [], derivatives: [Double] = []
        var upBins: [Int64] = [], up: [Double] = [], downBins: [Int64] = [], down: [Double] = [], scratch: [Double] = []
        let h = 1e-6
        for x in stride(from: -3.1, through: 3.1, by: 0.29) {
            Self.kernel(shape, bandwidth).spread(x, bins: &bins, weights: &weights, derivatives: &derivatives)
            Self.kernel(shape, bandwidth + h).spread(x, bins: &upBins, weights: &up, derivatives: &scratch)
            Self.kernel(shape, bandwidth - h).spread(x, bins: &downBins, weights: &down, derivatives: &scratch)
            guard upBins == bins, downBins == bins else { continue }   // the support moved: not differentiable here
            for i in bins.indices {
                let numeric = (up[i] - down[i]) / (2 * h)
                #expect(abs(numeric - derivatives[i]) < 1e-6, "x=\(x) bin=\(bins[i])")
            }
        }
    }
}

@Suite struct DecayTests {
    /// Sums anchored at different times and moved to one anchor equal the sums computed
    /// directly at that anchor, derivative included.
    @Test func reanchoredPartialsEqualTheDirectSums() throws {
        let pipeline = try Pipeline.parse(yaml: """
            version: 1
            name: d
            input: {paths: [x.csv], columns: {item: i, time: t}}
            count: {decay: {half_life: 2d}}
            loss: {kind: sum}
            gradients: {parameters: [decay]}
            output: {dir: out}
            """, path: "/tmp/p.yaml", folder: "/tmp")
        let channels = Channels(pipeline)
        let decay = try #require(Decay(pipeline, channels: channels))
        let times = [0.0, 3_600, 90_000, 400_000, 1_000_000]
        let reference = 1_200_000.0
        var direct = 0.0, directDerivative = 0.0
        var merged = KeyTable(channels: channels.count)
        for t in times {
            let age = (reference - t) / 86_400
            direct += 2 * decay.factor(age: age)
            directDerivative += -age * 2 * decay.factor(age: age)
            var partial = KeyTable(channels: channels.count)
            partial.anchor = t
            partial.add(key: 7, count: 1, 2, 0)   // a row at its own anchor: age 0
            merged.merge(partial, decay: decay) { $0 }
        }
        merged.reanchor(to: reference, decay: decay)
        #expect(abs(merged.sum(0, 0) - direct) <= 1e-14 * direct)
        #expect(abs(merged.sum(0, 1) - directDerivative) <= 1e-13 * abs(directDerivative))
    }
}

@Suite struct KeyTableTests {
    /// Folding batches into a dense table gives the rows, counts and bits that appending them and
    /// combining equal keys gives (the general path), with several channels.
    @Test func mergingDenseEqualsAppendingThenConsolidating() {
        var generator = SplitMix(seed: 11)
        var dense = KeyTable(channels: 2), appended = KeyTable(channels: 2)
        var seen = 0
        for _ in 0..<40 {
            var batch = KeyTable(channels: 2, capacity: 16)
            for _ in 0..<Int(generator.next() % 300) {
                // Keys are dense file ids: each batch sees old ones and a few new ones.
                let key = UInt64(generator.next() % UInt64(seen + 5))
                seen = max(seen, Int(key) + 1)
                batch.add(key: key, count: 1, Double(generator.next() % 1000) / 7, Double(generator.next() % 1000) / 3)
            }
            // The identity mapping: these batch keys already are file ids.
            dense.mergeDense(batch) { $0 }
            appended.append(batch) { $0 }
        }
        appended.consolidate()
        #expect(dense.keys.count == seen)
        let used = dense.keys.indices.filter { dense.counts[$0] > 0 }
        #expect(used.map { dense.keys[$0] } == appended.keys)
        #expect(used.map { dense.counts[$0] } == appended.counts)
        #expect(used.flatMap { [dense.sum($0, 0), dense.sum($0, 1)] }.map(\.bitPattern)
                == appended.sums.map(\.bitPattern))
    }

    /// Appending batches (keys mapped) then consolidating gives each key's count
    /// and its sums added in append order, sorted by key: against a plain reference, for a few
    /// distinct keys (every row a repeat), one key, one row and no rows; combined in one slice
    /// and in several (whose bounds fall inside a key's rows, and past whole slices of one key).
    @Test(arguments: [0, 1, 2, 5, 4_000])
    func consolidatingSumsEachKeyInAppendOrder(distinct: Int) {
        var generator = SplitMix(seed: UInt64(distinct) + 3)
        var table = KeyTable(channels: 2)
        var reference: [UInt64: (count: Int64, v0: Double, v1: Double)] = [:]
        for batchNumber in 0..<(distinct == 0 ? 0 : 30) {
            var batch = KeyTable(channels: 2, capacity: 16)
            for _ in 0..<(distinct == 1 && batchNumber > 0 ? 0 : Int(generator.next() % 200) + 1) {
                let key = distinct == 1 ? 9 : generator.next() % UInt64(distinct) * 0x1_0001_0001
                batch.add(key: key, count: 1, Double(generator.next() % 1000) / 7, Double(generator.next() % 1000) / 3)
            }
            // Keys mapped one to one.
            let mapping = { (key: UInt64) -> UInt64 in key ^ 0xFFFF }
            for row in 0..<batch.count {
                let key = mapping(batch.keys[row])
                var entry = reference[key] ?? (0, 0, 0)
                entry.count += batch.counts[row]
                entry.v0 += batch.sum(row, 0)
                entry.v1 += batch.sum(row, 1)
                reference[key] = entry
            }
            table.append(batch, mapping: mapping)
        }
        let keys = reference.keys.sorted()
        for parts in [1, 2, 3, 8] {
            var consolidated = table
            consolidated.consolidate(parts: parts)
            #expect(consolidated.keys == keys, "\(parts) parts")
            #expect(consolidated.counts == keys.map { reference[$0]!.count }, "\(parts) parts")
            #expect((0..<consolidated.count).map { consolidated.sum($0, 0).bitPattern } == keys.map { reference[$0]!.v0.bitPattern })
            #expect((0..<consolidated.count).map { consolidated.sum($0, 1).bitPattern } == keys.map { reference[$0]!.v1.bitPattern })
        }
    }

    /// An expected row count only sizes the table: it grows once to the estimate (and an eighth
    /// more) when the estimate is right, at most 64-fold when it is wild, at least twofold when
    /// it is low; the rows are those of appending without one.
    @Test(arguments: [nil, 0, 1_000, 9_000, 1 << 40] as [Int?])
    func anExpectedCountSizesTheTableButNotItsRows(expected: Int?) {
        var generator = SplitMix(seed: 31)
        var plain = KeyTable(channels: 1), sized = KeyTable(channels: 1)
        var capacities: Set<Int> = []
        for _ in 0..<100 {
            var batch = KeyTable(channels: 1, capacity: 64)
            for _ in 0..<80 { batch.add(key: generator.next() % 5_000, count: 1, Double(generator.next() % 100) / 8) }
            plain.append(batch) { $0 }
            sized.append(batch, mapping: { $0 }, expectedCount: expected)
            // (An array's capacity is its allocation's, rounded up a little.)
            let bound = max(64 * sized.count, 2 * (sized.count + batch.count))
            #expect(sized.keys.capacity <= bound + bound / 16)
            capacities.insert(sized.keys.capacity)
        }
        #expect(sized.keys == plain.keys && sized.counts == plain.counts && sized.sums.map(\.bitPattern) == plain.sums.map(\.bitPattern))
        if expected == 9_000 {
            // 8,000 rows: room for 9,000 and an eighth after the first batch's 64-fold cap.
            #expect(sized.keys.capacity >= 9_000 + 9_000 / 8 && capacities.count == 2)
        }
    }

    /// Translating keys in slices on every core gives the keys mapping them one by one gives.
    @Test func translatingKeysEqualsMappingThem() {
        var generator = SplitMix(seed: 5)
        let rows = 3 * Slices.minimumRows + 17
        let keys = (0..<rows).map { _ in generator.next() % 1_000_000 }
        var table = KeyTable(channels: 1, keys: keys, counts: keys.map { _ in 1 }, sums: keys.map { Double($0) }, anchor: nil,
                             repeatsKeys: true)
        table.translateKeys { $0 &* 31 ^ 7 }
        #expect(table.keys == keys.map { $0 &* 31 ^ 7 })
        #expect(table.sums == keys.map { Double($0) })
        #expect(Slices.map(rows) { keys[$0] &+ 1 } == keys.map { $0 &+ 1 })
    }

    /// A table whose keys repeat (appended batches) merges as its consolidated form does, as
    /// either side of the merge, and an empty table adopts it with its repeats.
    @Test func aTableWithRepeatedKeysMergesAsItsConsolidatedForm() {
        var generator = SplitMix(seed: 23)
        func batches(_ count: Int) -> KeyTable {
            var table = KeyTable(channels: 2)
            for _ in 0..<count {
                var batch = KeyTable(channels: 2, capacity: 16)
                for _ in 0..<50 {
                    batch.add(key: generator.next() % 40, count: 1, Double(generator.next() % 1000) / 7, Double(generator.next() % 1000) / 3)
                }
                table.append(batch) { $0 }
            }
            return table
        }
        func bits(_ table: KeyTable) -> [[UInt64]] {
            [table.keys, table.counts.map { UInt64(bitPattern: $0) }, table.sums.map(\.bitPattern)]
        }
        let repeated = batches(6), other = batches(3)
        #expect(repeated.repeatsKeys && repeated.count > 40)
        var consolidated = repeated, otherConsolidated = other
        consolidated.consolidate()
        otherConsolidated.consolidate()
        #expect(!consolidated.repeatsKeys)

        var intoRepeated = repeated, intoConsolidated = consolidated
        intoRepeated.merge(other, mapping: nil)
        intoConsolidated.merge(otherConsolidated, mapping: nil)
        #expect(!intoRepeated.repeatsKeys && bits(intoRepeated) == bits(intoConsolidated))

        var adopted = KeyTable(channels: 2)
        adopted.merge(repeated, mapping: nil)
        #expect(adopted.repeatsKeys && bits(adopted) == bits(repeated))
    }

    /// A partial's counts read back from the state cache as they were saved: rows, bits, and
    /// whether keys repeat.
    @Test(arguments: [false, true])
    func aPartialsCountsReadBackAsSaved(consolidated: Bool) throws {
        var partial = FilePartial(roles: 2, channels: 2)
        var batch = KeyTable(channels: 2, capacity: 4)
        batch.add(key: 5 << 32 | 1, count: 1, 0.5, 1.5)
        batch.add(key: 3 << 32, count: 2, 2.5, -1)
        for _ in 0..<2 { partial.keys.append(batch) { $0 } }
        if consolidated { partial.keys.consolidate() }
        let read = try #require(FilePartial.decoded(partial.encoded(), roles: 2, channels: 2))
        #expect(read.keys.repeatsKeys == !consolidated)
        #expect(read.keys.count == (consolidated ? 2 : 4))
        #expect(read.keys.keys == partial.keys.keys && read.keys.counts == partial.keys.counts)
        #expect(read.keys.sums.map(\.bitPattern) == partial.keys.sums.map(\.bitPattern))
    }

    /// Removing empty rows keeps, in order, every row with a count or a first sum (a weight-0
    /// row has count 1 and sum 0; a smoothed row may have count 0 and a sum), whatever its
    /// other sums; the table is indexed again on demand.
    @Test func removingEmptyRowsKeepsRowsWithACountOrAFirstSum() {
        var table = KeyTable(channels: 2)
        for (key, count, v0, v1) in [(UInt64(7), Int64(0), 0.0, 3.0), (2, 1, 0, 0), (9, 0, 0.5, 0), (4, 0, 0, 0), (6, 2, 1, 1)] {
            table.add(key: key, count: count, v0, v1)
        }
        table.removeEmptyRows()
        #expect(table.keys == [2, 9, 6])
        #expect(table.counts == [1, 0, 2])
        #expect(table.sums == [0, 0, 0.5, 0, 1, 1])
        table.buildIndex()
        #expect(table.find(9) == 1 && table.find(7) == nil)
    }

    /// A new key's row holds its first values as adding them to a zero row gives (a weight of
    /// −0 sums to +0), in every channel; rows stay findable as the table grows past its room.
    @Test func addingANewKeyStartsItsRowFromZero() {
        var table = KeyTable(channels: 3, capacity: 4)
        table.add(key: 1, count: 1, -0.0, 2, -0.0)
        table.add(key: 1, count: 1, 1.5, 0.25, 4)
        table.add(key: 2, count: 0, -3, -0.0, -0.0)
        for key: UInt64 in 3..<200 { table.add(key: key, count: 1, Double(key)) }
        #expect(table.counts.prefix(3) == [2, 0, 1])
        #expect(table.sums.prefix(6).map(\.bitPattern) == [1.5, 2.25, 4, -3, 0, 0].map(\.bitPattern))
        #expect(table.sum(198, 0) == 199 && table.sum(198, 2) == 0, "key k in row k − 1")
        #expect(table.row(for: 150) == 149 && table.row(for: 500) == 199 && table.count == 200)
        #expect(table.sums.suffix(3).map(\.bitPattern) == [0, 0, 0].map(\.bitPattern), "a zero row, all +0")
    }

    /// Merging into an empty table takes the other's rows with their keys mapped, leaving out
    /// the rows mapped to nil, in the other's row order.
    @Test func mergingIntoAnEmptyTableMapsTheRowsInPlace() {
        var other = KeyTable(channels: 1)
        for key: UInt64 in [5, 3, 8, 1] { other.add(key: key, count: Int64(key), Double(key) / 2) }
        var table = KeyTable(channels: 1)
        table.merge(other) { $0 == 8 ? nil : $0 * 10 }
        #expect(table.keys == [50, 30, 10])
        #expect(table.counts == [5, 3, 1])
        #expect(table.sums == [2.5, 1.5, 0.5])
        #expect(other.keys == [5, 3, 8, 1], "the caller's table is left as it was")
        #expect(table.row(for: 30) == 1 && table.count == 3, "looked up by its mapped key")
    }
}

