/// One shard of a sharded run: `--shard I/N`, I from 0 to N − 1.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public init(index: Int, count: Int) throws {
        guard count >= 1, (0..<count).contains(index) else {
            throw TallyError(.usage, stage: .run, "a shard is I/N with N ≥ 1 and 0 ≤ I < N, not \(index)/\(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw TallyError(.usage, stage: .run, "a shard is written I/N (such as 0/4), not '\(text)'")
        }
        try self.init(index: index, count: count)
    }

    public var description: String { "\(index)/\(count)" }
}

/// Which input files go to which shard, balanced by bytes.
///
/// Files are taken from the largest to the smallest (ties in path order) and each goes to the
/// shard with the fewest bytes so far (ties to the lowest shard): a deterministic function of the
/// files' paths and sizes, so `tally plan` and every `tally run --shard` agree without talking
/// to each other, and no shard gets more than 4/3 of the best possible largest share.
struct ShardPlan {
    /// The indices of each shard's files, in input (path) order.
    let shards: [[Int]]
    let files: [InputFile]

    init(files: [InputFile], count: Int) {
        self.files = files
        var shards = [[Int]](repeating: [], count: count)
        var loads = [Int64](repeating: 0, count: count)
        let largestFirst = files.indices.sorted { (files[$0].size, $1) > (files[$1].size, $0) }
        for file in largestFirst {
            let lightest = loads.indices.min { (loads[$0], $0) < (loads[$1], $1) }!
            shards[lightest].append(file)
            loads[lightest] += files[file].size
        }
        self.shards = shards.map { $0.sorted() }
    }

    /// The files of `shard`, in input order.
    func files(of shard: Shard) -> [InputFile] { shards[shard.index].map { files[$0] } }

    /// The plan as `tally plan` prints it.
    func json(pipeline: Pipeline) -> JSONValue {
        let bytes = { (indices: [Int]) in indices.reduce(Int64(0)) { $0 + files[$1].size } }
        return .object([
            ("pipeline", .string(InputFiles.display(pipeline.path))),
            // What a driver needs to run the reduce and, with per-row gradients, the second map.
            ("output", .string(pipeline.output.dir.value)),
            ("per_event_gradients", .bool(pipeline.gradients.perEvent)),
            ("shards", .int(Int64(shards.count))),
            ("files", .int(Int64(files.count))),
            ("bytes", .int(bytes(Array(files.indices)))),
            ("assignments", .array(shards.enumerated().map { index, files in
                .object([
                    ("shard", .string("\(index)/\(shards.count)")),
                    ("files", .int(Int64(files.count))),
                    ("bytes", .int(bytes(files))),
                    ("paths", .array(files.map { .string(self.files[$0].relativePath) })),
                ])
            })),
        ])
    }
}
