import Foundation
import Parquet
import Testing

/// Runs started together that extend one vocabulary (a backfill of several days) take turns:
/// each reads the vocabulary after the previous one wrote it back, so every output's ids keep
/// the indices the vocabulary file ends with.
@Suite struct ConcurrentRunTests {
    static let pipeline = """
        version: 1
        name: backfill
        input:
          paths: ["logs/${d}.csv"]
          columns: {user: user_id, item: item_id}
        vocabulary:
          user: {path: vocab/users.parquet}
        count: {key: [user]}
        loss: {kind: sum}
        output: {dir: "out/${d}"}
        """

    /// Day `day`'s users, row by row: 20k rows over 4k users of its own and 1k shared with
    /// every day.
    static func users(day: Int) -> [String] {
        (0..<20_000).map { row in row % 5 == 0 ? "shared\(row / 5 % 1000)" : "d\(day)u\(row % 5000)" }
    }

    static func ids(_ path: URL) throws -> [String] {
        guard case .byteArray(let ids) = try ParquetReader(path: path.path).read(column: "id").values else {
            Issue.record("column id of \(path.lastPathComponent) is not a string column")
            return []
        }
        return (0..<ids.count).map(ids.string(at:))
    }

    @Test func runsExtendingOneVocabularyTakeTurns() throws {
        let folder = try EndToEnd.temporaryFolder("concurrent-vocabulary")
        defer { EndToEnd.cleanUp(folder) }
        try EndToEnd.write(Self.pipeline, to: "p.yaml", in: folder)
        let days = [1, 2, 3, 4]
        for day in days {
            let rows = Self.users(day: day).enumerated().map { "\($1),i\($0 % 97)\n" }
            try EndToEnd.write(Data(("user_id,item_id\n" + rows.joined()).utf8), to: "logs/\(day).csv", in: folder)
        }

        let results = Results(count: days.count)
        DispatchQueue.concurrentPerform(iterations: days.count) { i in
            results.set(i, try? EndToEnd.tally(["run", "p.yaml", "--var", "d=\(days[i])", "--quiet"], in: folder))
        }
        for (day, result) in zip(days, results.values) {
            let result = try #require(result)
            #expect(result.status == 0, "day \(day): \(result.transcript)")
        }
        let final = try Self.ids(folder.appendingPathComponent("vocab/users.parquet"))
        // The OOV bucket, then every user of every day.
        #expect(final.count == 1 + Set(days.flatMap(Self.users)).count)
        for day in days {
            let output = try Self.ids(folder.appendingPathComponent("out/\(day)/vocab_user.parquet"))
            let differing = zip(final, output).filter { $0 != $1 }.count + max(0, output.count - final.count)
            #expect(differing == 0, "day \(day): \(differing) of \(output.count) indices name other ids than the vocabulary file's")
        }
    }

    private final class Results: @unchecked Sendable {
        // Confinement: each index is written by one iteration, read after all have ended.
        var values: [EndToEnd.Output?]
        init(count: Int) { values = Array(repeating: nil, count: count) }
        func set(_ index: Int, _ value: EndToEnd.Output?) { values[index] = value }
    }
}
