import Testing
@testable import Tally

/// `ShardPlan`: every file in exactly one shard, the same plan for the same files, and loads
/// within the 4/3 bound of largest-first greedy scheduling.
@Suite struct ShardPlanTests {
    static func files(_ sizes: [Int64]) -> [InputFile] {
        sizes.enumerated().map { index, size in
            InputFile(path: "/logs/\(index).csv", displayPath: "\(index).csv", relativePath: "\(index).csv", size: size, isZstd: false)
        }
    }

    @Test func everyFileGoesToExactlyOneShardAndLoadsStayWithinTheBound() throws {
        var generator = SplitMix(seed: 7)
        for _ in 0..<300 {
            let sizes = (0..<Int(generator.next() % 9)).map { _ in Int64(generator.next() % 10_000) }
            let count = Int(generator.next() % 3) + 1
            let plan = ShardPlan(files: Self.files(sizes), count: count)
            #expect(plan.shards.count == count)
            #expect(plan.shards.flatMap { $0 }.sorted() == Array(sizes.indices))
            #expect(plan.shards.allSatisfy { $0 == $0.sorted() })
            let loads = plan.shards.map { $0.reduce(Int64(0)) { $0 + sizes[$1] } }
            // Largest-first greedy is within 4/3 of the best assignment, found here by trying all.
            let best = Self.bestLargestLoad(sizes, count: count)
            #expect(Double(loads.max() ?? 0) <= Double(best) * 4 / 3, "sizes \(sizes), \(count) shards: loads \(loads), best \(best)")
        }
    }

    /// The smallest possible largest load, by trying every assignment.
    static func bestLargestLoad(_ sizes: [Int64], count: Int) -> Int64 {
        var best = Int64.max
        var loads = [Int64](repeating: 0, count: count)
        func place(_ file: Int) {
            if file == sizes.count {
                best = min(best, loads.max()!)
                return
            }
            for shard in 0..<count {
                loads[shard] += sizes[file]
                place(file + 1)
                loads[shard] -= sizes[file]
            }
        }
        place(0)
        return best
    }

    @Test func equalSizesGoRoundRobinInPathOrder() {
        let plan = ShardPlan(files: Self.files([5, 5, 5, 5, 5]), count: 2)
        #expect(plan.shards == [[0, 2, 4], [1, 3]])
    }

    @Test func moreShardsThanFilesLeavesTheLastShardsEmpty() {
        let plan = ShardPlan(files: Self.files([1, 30, 2]), count: 5)
        #expect(plan.shards == [[1], [2], [0], [], []])
    }

    @Test(arguments: ["0/1", "3/4"]) func shardsParse(_ text: String) throws {
        #expect(try Shard(parsing: text).description == text)
    }

    @Test(arguments: ["4/4", "-1/4", "0/0", "1", "a/b", "1/2/3"]) func badShardsAreUsageErrors(_ text: String) {
        #expect(throws: TallyError.self) { try Shard(parsing: text) }
        #expect((try? Shard(parsing: text)) == nil)
    }
}
