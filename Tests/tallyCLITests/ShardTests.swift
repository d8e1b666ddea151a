import Foundation
import Testing

/// A sharded run — `tally plan`, `tally run --shard I/N --partials DIR` for every shard,
/// `tally reduce`, the gradient maps, `tally reduce` again — publishes the same bytes as
/// `tally run` on one machine, for any number of shards.
@Suite struct ShardTests {
    /// Decay, a parameter gradient, per-row gradients, quarantined bad rows and a persistent
    /// vocabulary, over files of different sizes (plain and zstd).
    static let pipeline = """
        version: 1
        name: sharded
        description: pairs with decay and per-row gradients over several files
        input:
          paths: ["logs/*"]
          columns: {user: user_id, item: item_id, time: timestamp, weight: weight}
          bad_rows: {policy: quarantine}
        vocabulary:
          user: {order: first_seen}
          item: {path: vocab/items.parquet, mode: extend, order: frequency, min_count: 2, oov: bucket}
        count:
          key: [user, item]
          weight: {column: weight}
          decay: {half_life: 1d}
        loss: {kind: poisson_nll}
        gradients: {parameters: [decay], per_event: true}
        output: {dir: "${out}"}
        """

    /// Eight log files cut from the sample days (sizes from 40 to 6000 rows), one with bad rows.
    static func sandbox() throws -> URL {
        let folder = try EndToEnd.temporaryFolder("shards")
        try EndToEnd.write(pipeline, to: "sharded.yaml", in: folder)
        let lines = try RollingWindowTests.decompress(EndToEnd.sampleData.appendingPathComponent("logs/2024-11-19.csv.zst"))
            .split(separator: "\n", omittingEmptySubsequences: false)
        let header = lines[0]
        var next = 1
        for (index, rows) in [6000, 40, 2500, 900, 3100, 150, 1200, 700].enumerated() {
            var text = ([header] + lines[next..<next + rows]).joined(separator: "\n") + "\n"
            if index == 3 { text += "u0000001,sku-1,view,not-a-time,1\nu0000002,sku-2\n" }
            next += rows
            let name = "logs/part-\(index).csv"
            let url = try EndToEnd.write(text, to: name, in: folder)
            if index % 2 == 0 { try RollingWindowTests.compress(text, to: url.appendingPathExtension("zst")) }
        }
        return folder
    }

    /// Runs `tally` in `folder` (quietly, but for `plan`); requires `status`.
    @discardableResult
    static func tally(_ arguments: [String], in folder: URL, status: Int32 = 0,
                      sourceLocation: SourceLocation = #_sourceLocation) throws -> EndToEnd.Output {
        let result = try EndToEnd.tally(arguments + (arguments.first == "plan" ? [] : ["--quiet"]), in: folder)
        try #require(result.status == status, "tally \(arguments.joined(separator: " ")):\n\(result.transcript)",
                     sourceLocation: sourceLocation)
        return result
    }

    /// The output folder's files, summary.json without its timings and `reused` flags.
    static func published(_ folder: URL) throws -> [String: Data] {
        var files = try EndToEnd.files(in: folder)
        let data = try #require(files["summary.json"])
        var summary = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        summary["seconds"] = nil
        summary["inputs"] = (summary["inputs"] as? [[String: Any]])?.map { $0.filter { $0.key != "reused" } }
        files["summary.json"] = try JSONSerialization.data(withJSONObject: summary, options: .sortedKeys)
        return files
    }

    @Test(arguments: [1, 2, 3, 7, 11])
    func planShardsAndReduceEqualOneMachine(_ shards: Int) throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--workers", "2"], in: folder)
        let expected = try Self.published(folder.appendingPathComponent("out"))
        #expect(expected.keys.contains("event_grads.parquet") && expected.keys.contains("quarantine.parquet"))
        let vocabulary = folder.appendingPathComponent("vocab/items.parquet")
        let expectedVocabulary = try Data(contentsOf: vocabulary)
        try FileManager.default.removeItem(at: folder.appendingPathComponent("out"))
        try FileManager.default.removeItem(at: vocabulary)

        // The plan: every file in exactly one shard.
        let plan = try Self.tally(["plan", "sharded.yaml", "--var", "out=out", "--shards", "\(shards)"], in: folder)
        let assignments = try #require((JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])?["assignments"] as? [[String: Any]])
        let planned = assignments.map { $0["paths"] as! [String] }
        #expect(planned.count == shards)
        #expect(planned.flatMap { $0 }.sorted() == (0..<8).map { "logs/part-\($0).csv\($0 % 2 == 0 ? ".zst" : "")" })

        // The maps, last shard first; each writes the partials of its planned files, and a
        // repeated map (a retried task) reads nothing again.
        let parts = folder.appendingPathComponent("parts")
        var written = 0
        for index in (0..<shards).reversed() {
            let map = ["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/\(shards)", "--partials", "parts",
                       "--workers", "\(index % 2 + 1)"]
            try Self.tally(map, in: folder)
            let partials = (try? FileManager.default.contentsOfDirectory(atPath: parts.path).filter { $0.hasSuffix(".partial") }) ?? []
            #expect(partials.count - written == planned[index].count, "shard \(index)/\(shards) wrote another number of partials")
            written = partials.count
            if index == 0 {
                let again = try EndToEnd.tally(Array(map.dropLast(2)), in: folder)
                #expect(again.status == 0 && again.stderr.contains("(\(planned[0].count) already done)"), "\(again.transcript)")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))

        // Reduce; the gradient maps; reduce again.
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder)
        #expect(try Set(Self.published(folder.appendingPathComponent("out")).keys) == Set(expected.keys).subtracting(["event_grads.parquet"]))
        // The vocabulary is written back only with the complete output.
        #expect(!FileManager.default.fileExists(atPath: vocabulary.path))
        for index in 0..<shards {
            try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/\(shards)", "--partials", "parts",
                            "--gradients-from", "out"], in: folder)
        }
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder)
        let reduced = try Self.published(folder.appendingPathComponent("out"))
        #expect(Set(reduced.keys) == Set(expected.keys))
        for (file, bytes) in expected {
            #expect(reduced[file] == bytes, "\(file) differs between tally run and \(shards) shards")
        }
        #expect(try Data(contentsOf: vocabulary) == expectedVocabulary, "the written-back vocabulary differs")
    }

    /// A run of one file keeps its pairs as they were appended, and the reducer combines them;
    /// with decay and an OOV bucket, that must give the bytes of the combined partial that the
    /// state cache saves and reads back. A whole sample day (several batches) over a vocabulary
    /// already saved, so that the file's ids are not the run's.
    @Test func oneFileGivesTheSameBytesCountedSavedAndReadBack() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        let logs = folder.appendingPathComponent("logs")
        try FileManager.default.removeItem(at: logs)
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: EndToEnd.sampleData.appendingPathComponent("logs/2024-11-19.csv.zst"),
                                         to: logs.appendingPathComponent("day.csv.zst"))
        let vocabulary = folder.appendingPathComponent("vocab/items.parquet")
        try Self.tally(["run", "sharded.yaml", "--var", "out=first"], in: folder)
        let saved = try Data(contentsOf: vocabulary)
        var outputs: [[String: Data]] = []
        for state in [nil, "state", "state"] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("out"))
            try saved.write(to: vocabulary)
            try Self.tally(["run", "sharded.yaml", "--var", "out=out"] + (state.map { ["--state", $0] } ?? []), in: folder)
            outputs.append(try Self.published(folder.appendingPathComponent("out")))
        }
        let data = try #require(outputs[0]["summary.json"])
        let summary = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((summary["rows"] as? [String: Any])?["kept"] as? Int == 100_000)
        for (file, bytes) in outputs[0] {
            #expect(outputs[1][file] == bytes, "saving the partial changed \(file)")
            #expect(outputs[2][file] == bytes, "reading the partial back changed \(file)")
        }
    }

    @Test func reduceNamesTheFilesWithoutAPartialAndPublishesNothing() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "0/2", "--partials", "parts"], in: folder)
        let missing = try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        let plan = try Self.tally(["plan", "sharded.yaml", "--var", "out=out", "--shards", "2"], in: folder)
        let second = try #require(((JSONSerialization.jsonObject(with: Data(plan.stdout.utf8)) as? [String: Any])?["assignments"] as? [[String: Any]])?[1]["paths"] as? [String])
        #expect(missing.stderr.contains("no usable partial for \(second.count) of 8 input files"), "\(missing.transcript)")
        for path in second { #expect(missing.stderr.contains("\(path)' (missing)"), "\(path) not named:\n\(missing.transcript)") }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))

        // Partials made with other counting settings (another half-life) are refused by name.
        try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "1/2", "--partials", "parts"], in: folder)
        let other = try String(contentsOf: folder.appendingPathComponent("sharded.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "half_life: 1d", with: "half_life: 2d")
        try EndToEnd.write(other, to: "sharded.yaml", in: folder)
        let foreign = try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        #expect(foreign.stderr.contains("no usable partial for 8 of 8 input files") && foreign.stderr.contains("(made with other counting settings)"),
                "\(foreign.transcript)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test func aShardThatHitsBadInputFailsWithItsPlaceAndLeavesNoPartialOfThatFile() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        let failing = try String(contentsOf: folder.appendingPathComponent("sharded.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "policy: quarantine", with: "policy: fail")
        try EndToEnd.write(failing, to: "sharded.yaml", in: folder)
        var failed = 0
        for index in 0..<3 {
            let result = try EndToEnd.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/3", "--partials", "parts"], in: folder)
            guard result.status != 0 else { continue }
            failed += 1
            #expect(result.status == 65, "\(result.transcript)")
            #expect(result.stderr.contains("logs/part-3.csv:902:"), "\(result.transcript)")
        }
        #expect(failed == 1)
        let partials = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("parts").path)
        #expect(partials.filter { $0.hasSuffix(".partial") }.count < 8)
        #expect(!partials.contains { $0.contains("tally-tmp") })
    }

    @Test func theGradientMapsNeedTheReduceAndItsPublishedOutput() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        let gradients = ["run", "sharded.yaml", "--var", "out=out", "--shard", "0/2", "--partials", "parts", "--gradients-from", "out"]
        let noFolder = try Self.tally(gradients, in: folder, status: 66)
        #expect(noFolder.stderr.contains("no such folder of partials"), "\(noFolder.transcript)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("parts").path))
        for index in 0..<2 {
            try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/2", "--partials", "parts"], in: folder)
        }
        let unreduced = try Self.tally(gradients, in: folder, status: 66)
        #expect(unreduced.stderr.contains("no row-gradient model for these settings here: run tally reduce first"), "\(unreduced.transcript)")

        // The reduce leaves the model; an output published by another run is refused.
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder)
        try Self.tally(["run", "sharded.yaml", "--var", "out=other"], in: folder)
        var foreign = gradients
        foreign[foreign.count - 1] = "other"
        let other = try Self.tally(foreign, in: folder, status: 65)
        #expect(other.stderr.contains("this output was made with another pipeline file or other --var values: "
                                      + "give --gradients-from the output.dir of this pipeline (out)"), "\(other.transcript)")
        try Self.tally(gradients, in: folder)

        // Some parts but not all: the reduce names the files without one and publishes nothing new.
        let before = try EndToEnd.files(in: folder.appendingPathComponent("out"))
        let some = try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        #expect(some.stderr.contains("no usable per-row gradient part for"), "\(some.transcript)")
        #expect(try EndToEnd.files(in: folder.appendingPathComponent("out")) == before)

        // The output is then reduced from other partials (a file lost a row since): refused.
        let log = folder.appendingPathComponent("logs/part-1.csv")
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        try Data((lines.dropLast().joined(separator: "\n") + "\n").utf8).write(to: log)
        for index in 0..<2 {
            try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/2", "--partials", "parts2"], in: folder)
        }
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts2"], in: folder)
        let stale = try Self.tally(gradients, in: folder, status: 65)
        #expect(stale.stderr.contains("this output was not reduced from these partials"), "\(stale.transcript)")
    }

    @Test func reduceRefusesAFileChangedSinceItsMap() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        for index in 0..<2 {
            try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/2", "--partials", "parts"], in: folder)
        }
        // Same size, new content and time: reduce does not read the logs, but sees the change.
        let log = folder.appendingPathComponent("logs/part-1.csv")
        var text = try String(contentsOf: log, encoding: .utf8)
        text = text.replacingOccurrences(of: "view", with: "VIEW")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: log.path)
        try Data(text.utf8).write(to: log)
        let changed = try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        #expect(changed.stderr.contains("logs/part-1.csv' (changed since its partial was made"), "\(changed.transcript)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test func aTouchedFileIsTakenAgainOnceItsShardIsMappedAgain() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        let map = { (index: Int) in
            _ = try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "\(index)/2", "--partials", "parts"], in: folder)
        }
        for index in 0..<2 { try map(index) }
        // Same content, a new modification time (touch, or a copy without -p).
        let log = folder.appendingPathComponent("logs/part-1.csv")
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(3600)], ofItemAtPath: log.path)
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        for index in 0..<2 { try map(index) }
        try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder)
    }

    @Test func reduceSaysWhenTheMapsUsedDifferentShardCounts() throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "0/2", "--partials", "parts"], in: folder)
        try Self.tally(["run", "sharded.yaml", "--var", "out=out", "--shard", "0/3", "--partials", "parts"], in: folder)
        let mixed = try Self.tally(["reduce", "sharded.yaml", "--var", "out=out", "--partials", "parts"], in: folder, status: 65)
        #expect(mixed.stderr.contains("different shard counts (N = 2, 3)"), "\(mixed.transcript)")
    }

    @Test(arguments: [
        (["--shard", "2/2", "--partials", "parts"], "0 ≤ I < N"),
        (["--shard", "1-2", "--partials", "parts"], "I/N"),
        (["--shard", "-1/2", "--partials", "parts"], "0 ≤ I < N"),
        (["--shard", "0/2"], "--shard needs --partials"),
        (["--partials", "parts"], "run tally reduce"),
        (["--shard", "0/2", "--partials", "parts", "--state", "state"], "--state is for one-machine runs"),
    ])
    func shardOptionsAreCheckedBeforeAnythingRuns(_ options: [String], _ message: String) throws {
        let folder = try Self.sandbox()
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.tally(["run", "sharded.yaml", "--var", "out=out"] + options, in: folder, status: 64)
        #expect(result.stderr.contains(message), "\(result.transcript)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("parts").path))
    }
}
