import Foundation
import Parquet
import Testing
@testable import Tally

/// Runs whole pipelines in-process on small generated inputs.
@Suite struct RunTests {
    /// A log with a few users and items, ids reused across files, one day per file.
    static func log(day: Int, rows: Int) -> String {
        var text = "user_id,item_id,event,timestamp,weight\n"
        var state: UInt64 = UInt64(day) &* 0x9E37_79B9_7F4A_7C15 | 1
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        let events = ["view", "click", "cart", "purchase"]
        for i in 0..<rows {
            text += "u\(next(40)),i\(next(25) * next(4)),\(events[next(4)]),\(1_732_000_000 + day * 86_400 + i),\(Double(next(1000)) / 8)\n"
        }
        return text
    }

    struct Run {
        let folder: TemporaryFolder
        let output: String
        let report: PipelineRun.Report
    }

    static func run(_ yaml: String, files: [String: [UInt8]], workers: Int = 2, batchBytes: Int = 1 << 20,
                    in existing: TemporaryFolder? = nil) throws -> Run {
        let folder = try existing ?? TemporaryFolder()
        for (name, bytes) in files { try folder.write(name, bytes) }
        let pipeline = try Pipeline.parse(yaml: yaml, path: folder.path + "/p.yaml", folder: folder.path)
        var options = PipelineRun.Options(workers: workers, progress: false)
        options.batchBytes = batchBytes
        let report = try PipelineRun(pipeline: pipeline, options: options).run()
        return Run(folder: folder, output: pipeline.output.dir.value, report: report)
    }

    static let items = """
        version: 1
        name: items
        input:
          paths: ["logs/*.csv*"]
          columns: {item: item_id, user: user_id, event: event}
        count:
          key: [item]
          weight: {column: weight}
        loss: {kind: multinomial_nll}
        output: {dir: out}
        """

    static var days: [String: [UInt8]] {
        ["logs/1.csv.zst": zstdFrame(bytes(log(day: 1, rows: 3_000))),
         "logs/2.csv": bytes(log(day: 2, rows: 2_000)),
         "logs/3.csv.zst": zstdFrames([bytes(log(day: 3, rows: 1_000)), bytes("u1,i1,view,1732300000,1.5\n")])]
    }

    static func outputFiles(_ run: Run) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: run.output) where name != "summary.json" {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: run.output + "/" + name))
        }
        return files
    }

    @Test(arguments: [RunTests.items, RunTests.items.replacingOccurrences(of: "key: [item]", with: "key: [user, item]")])
    func outputsAreByteIdenticalForAnyNumberOfWorkers(_ yaml: String) throws {
        // Small batches, so that workers finish out of order and the fold must put them back.
        let one = try Self.outputFiles(Self.run(yaml, files: Self.days, workers: 1, batchBytes: 512))
        for workers in [2, 4, 7] {
            #expect(try Self.outputFiles(Self.run(yaml, files: Self.days, workers: workers, batchBytes: 512)) == one)
        }
        #expect(one.keys.sorted() == ["counts.parquet", "target_grad.parquet", "vocab_item.parquet"]
            || one.keys.sorted() == ["counts.parquet", "target_grad.parquet", "vocab_item.parquet", "vocab_user.parquet"])
    }

    @Test func countsSumEveryKeptRowOnce() throws {
        let run = try Self.run(Self.items, files: Self.days)
        let counts = try ParquetReader(path: run.output + "/counts.parquet")
        guard case .int64(let rows) = try counts.read(column: "count").values else { Issue.record("count is not INT64"); return }
        #expect(rows.reduce(0, +) == 6_001)
        #expect(run.report.rowsRead == 6_001 && run.report.rowsKept == 6_001)
    }

    @Test func badRowsAreSkippedCountedAndQuarantinedWithTheirBytes() throws {
        let yaml = Self.items.replacingOccurrences(of: "  columns:", with: "  bad_rows: {policy: quarantine}\n  columns:")
        let log = "user_id,item_id,event,timestamp,weight\nu1,i1,view,1,2\nu1,,view,1,2\nu2,i2,view,1,n/a\n\"u3,i3,view,1,2\nu4,i4,view\n"
        let run = try Self.run(yaml, files: ["logs/a.csv": bytes(log)])
        // The unterminated quote runs to the end of the file: the last line is part of that record.
        #expect(run.report.badRows == 3)
        let quarantine = try ParquetReader(path: run.output + "/quarantine.parquet")
        guard case .byteArray(let reasons) = try quarantine.read(column: "reason").values,
              case .int64(let lines) = try quarantine.read(column: "line").values,
              case .int64(let offsets) = try quarantine.read(column: "byte_offset").values,
              case .byteArray(let raw) = try quarantine.read(column: "raw").values
        else { Issue.record("unexpected column types"); return }
        #expect((0..<reasons.count).map(reasons.string(at:)) == [
            "empty item id", "unparsable weight 'n/a'", "unterminated quoted field"])
        #expect(lines == [3, 4, 5])
        #expect(offsets == [54, 67, 84])
        #expect(String(decoding: raw[0], as: UTF8.self) == "u1,,view,1,2")
    }

    @Test func theFirstBadRowFailsTheRunWithItsLocationAndLeavesNoOutput() throws {
        let log = "user_id,item_id,event,timestamp,weight\nu1,i1,view,1,2\nu2,i2,view,1,n/a\nu3,,view,1,2\n"
        let error = try #require(throws: TallyError.self) {
            try Self.run(Self.items, files: ["logs/a.csv": bytes(log)], workers: 3, batchBytes: 1)
        }
        #expect(error.description == "logs/a.csv:3:5: error: [tokenize] unparsable weight 'n/a'"
            || error.description.hasSuffix("a.csv:3:5: error: [tokenize] unparsable weight 'n/a'"))
        #expect(error.kind.exitCode == 65)
    }

    @Test func aFailedRunLeavesThePreviousOutputUntouchedAndNoTemporaryFolder() throws {
        let first = try Self.run(Self.items, files: Self.days)
        let before = try Self.outputFiles(first)
        try first.folder.write("logs/4.csv", bytes("user_id,item_id,event,timestamp,weight\nu1,i1,view,1,oops\n"))
        #expect(throws: TallyError.self) { try Self.run(Self.items, files: [:], in: first.folder) }
        #expect(try Self.outputFiles(first) == before)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: first.folder.path).filter { $0.contains("tally-tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func aFrozenVocabularyMapsUnknownIdsToTheBucket() throws {
        let extend = Self.items.replacingOccurrences(of: "count:", with: "vocabulary:\n  item: {path: vocab/items.parquet}\ncount:")
        let first = try Self.run(extend, files: ["logs/a.csv": bytes("user_id,item_id,event,timestamp,weight\nu,a,v,1,1\nu,b,v,1,1\nu,b,v,1,1\n")])
        let frozen = extend.replacingOccurrences(of: "{path: vocab/items.parquet}", with: "{path: vocab/items.parquet, mode: frozen}")
        try first.folder.write("logs/b.csv", bytes("user_id,item_id,event,timestamp,weight\nu,c,v,1,1\nu,a,v,1,1\n"))
        let second = try Self.run(frozen, files: [:], in: first.folder)
        let vocabulary = try ParquetReader(path: second.output + "/vocab_item.parquet")
        guard case .byteArray(let ids) = try vocabulary.read(column: "id").values,
              case .int64(let counts) = try vocabulary.read(column: "count").values
        else { Issue.record("unexpected column types"); return }
        // b (2 rows) before a (1 row) from the first run; c is unknown: the bucket.
        #expect(ids.string(at: 1) == "b" && ids.string(at: 2) == "a")
        #expect(counts == [1, 2, 2])
    }
}

extension RunTests {
    /// A partial is reused only under the settings it was counted with: raising
    /// `max_field_bytes` to recover rows counts them, where the cached partial had them bad.
    @Test func theStateCacheCountsAgainWhenMaxFieldBytesChanges() throws {
        let log = "user_id,item_id,event,timestamp,weight\nu,short,v,1,1\nu,longlonglongid,v,1,1\nu,short,v,1,1\n"
        func yaml(_ limit: Int) -> String {
            Self.items.replacingOccurrences(of: "  columns:", with: "  max_field_bytes: \(limit)\n  bad_rows: {policy: skip}\n  columns:")
                + "\nrun: {state_dir: state}"
        }
        let strict = try Self.run(yaml(8), files: ["logs/a.csv": bytes(log)])
        #expect(strict.report.rowsKept == 2 && strict.report.badRows == 1)
        let relaxed = try Self.run(yaml(1000), files: [:], in: strict.folder)
        #expect(relaxed.report.rowsKept == 3 && relaxed.report.badRows == 0)
    }

    /// Every setting the counting pass reads (`RowRules`, the reader's, the key, the channels)
    /// is in the state cache's fingerprint.
    @Test func everySettingThatShapesAPartialChangesTheFingerprint() throws {
        let base = """
            version: 1
            name: f
            input:
              paths: ["logs/*.csv"]
              columns: {item: item_id, user: user_id, time: timestamp, weight: weight, event: event}
            count:
              key: [item]
              weight: {column: weight}
            loss: {kind: sum}
            output: {dir: out}
            """
        let variations: [[(String, String)]] = [
            [("{item: item_id, user: user_id, time: timestamp, weight: weight, event: event}",
              "{item: 1, user: 0, time: 3, event: 2}\n  header: false"), ("{column: weight}", "{column: 4}")],
            [("  paths:", "  delimiter: \";\"\n  paths:")],
            [("  paths:", "  max_field_bytes: 100\n  paths:")], [("  paths:", "  time_format: unix_millis\n  paths:")],
            [("  paths:", "  bad_rows: {policy: skip}\n  paths:")], [("  paths:", "  where: {event: [view]}\n  paths:")],
            [("item: item_id,", "item: sku,")], [("key: [item]", "key: [user, item]")],
            [("weight: {column: weight}", "weight: {events: {view: 2}}")],
            [("weight: {column: weight}", "weight: {column: weight}\n  decay: {half_life: 7d}")],
            [("key: [item]", "key: [item, time]\n  time_bins: {width: 1d}")],
        ]
        let folder = try TemporaryFolder()
        func fingerprint(_ yaml: String) throws -> String {
            let pipeline = try Pipeline.parse(yaml: yaml, path: folder.path + "/p.yaml", folder: folder.path)
            return PartialStore.fingerprint(pipeline, roles: RowRules(pipeline).roles)
        }
        let reference = try fingerprint(base)
        for changes in variations {
            let varied = changes.reduce(base) { $0.replacingOccurrences(of: $1.0, with: $1.1) }
            #expect(varied != base, "\(changes) was not applied")
            #expect(try fingerprint(varied) != reference, "\(changes) leaves the fingerprint as it was")
        }
    }

    /// Time bins are numbered in 32 bits: a row about 2^31 bins or more from the origin is a bad
    /// row, named as such, and an origin near the data counts it.
    @Test func aTimeAbout2To31BinsFromTheOriginIsABadRow() throws {
        let log = "item_id,t\na,2038-01-19T03:14:00Z\na,2038-01-19T03:14:08Z\n"
        func yaml(_ origin: String) -> String {
            """
            version: 1
            name: bins
            input: {paths: [log.csv], columns: {item: item_id, time: t}, time_format: iso8601}
            count: {key: [item, time], time_bins: {width: 1s\(origin)}}
            loss: {kind: sum}
            output: {dir: out}
            """
        }
        let error = try #require(throws: TallyError.self) { try Self.run(yaml(""), files: ["log.csv": bytes(log)]) }
        #expect(error.description.hasSuffix("log.csv:3:2: error: [tokenize] time '2038-01-19T03:14:08Z' is too far from the time "
                                            + "bins' origin: bins are numbered in 32 bits, up to about 2^31 either side "
                                            + "(set count.time_bins.origin near the data)"), "\(error)")
        let near = try Self.run(yaml(", origin: \"2038-01-01T00:00:00Z\""), files: ["log.csv": bytes(log)])
        #expect(near.report.rowsKept == 2)
    }

    /// A pattern that matches the state cache's entries only by their digests (`[27]*` takes the
    /// entries whose digest starts with 2 or 7) is refused with the pipeline file; one that
    /// matches an entry the check cannot foresee, when the run finds the entry among its inputs.
    @Test func inputPathsMatchingStateCacheEntriesAreRefused() throws {
        let folder = try TemporaryFolder()
        let byDigest = Self.items.replacingOccurrences(of: "logs/*.csv*", with: "logs/[27]*") + "\nrun: {state_dir: logs}"
        let problems = Pipeline.validate(yaml: byDigest, path: folder.path + "/p.yaml", folder: folder.path)
        #expect(problems.count == 1 && problems[0].kind == .config, "\(problems)")
        #expect(problems.first?.message.contains("logs/[27]*' matches the files of run.state_dir") == true, "\(problems)")

        try folder.write("logs/2.csv", bytes("user_id,item_id,event,timestamp,weight\nu,a,v,1,1\n"))
        try folder.write("state/7f3e01-c0ffee.partial", bytes("not a log"))
        let unforeseen = Self.items.replacingOccurrences(of: "\"logs/*.csv*\"", with: "\"logs/*.csv\", \"state/7f3e*\"")
            + "\nrun: {state_dir: state}"
        let error = try #require(throws: TallyError.self) { try Self.run(unforeseen, files: [:], in: folder) }
        #expect(error.kind == .config && error.message.contains("state/7f3e01-c0ffee.partial, a file of the folder of partials"),
                "\(error)")
    }

    /// Two vocabularies in one folder reached by two paths (a symbolic link) lock it once: the
    /// run locked itself out, waiting forever on its own lock.
    @Test(.timeLimit(.minutes(1))) func vocabulariesInOneFolderByTwoPathsLockItOnce() throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: folder.path + "/link", withDestinationPath: folder.path + "/real")
        let yaml = Self.items.replacingOccurrences(of: "count:", with: """
            vocabulary:
              item: {path: real/items.parquet}
              user: {path: link/users.parquet}
            count:
            """).replacingOccurrences(of: "key: [item]", with: "key: [user, item]")
        let run = try Self.run(yaml, files: ["logs/a.csv": bytes("user_id,item_id,event,timestamp,weight\nu,a,v,1,1\n")], in: folder)
        #expect(run.report.rowsKept == 1)
        #expect(FileManager.default.fileExists(atPath: folder.path + "/real/users.parquet"))
    }

    /// A vocabulary in the output folder's own parent: clearing that folder of abandoned
    /// temporaries before the vocabulary is written must not take the run's own output folder
    /// with them (it did, and the run failed with 74 after rewriting the vocabulary). The file is
    /// written back with the run, equal to the output's vocabulary table, and nothing is left.
    @Test func aVocabularyBesideTheOutputFolderIsWrittenBackWithTheOutput() throws {
        let extend = Self.items.replacingOccurrences(of: "count:", with: "vocabulary:\n  item: {path: items.parquet}\ncount:")
        let run = try Self.run(extend, files: ["logs/a.csv": bytes("user_id,item_id,event,timestamp,weight\nu,a,v,1,1\nu,b,v,1,1\nu,b,v,1,1\n")])
        let written = try Data(contentsOf: URL(fileURLWithPath: run.folder.path + "/items.parquet"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: run.output + "/vocab_item.parquet")) == written)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.folder.path).filter { $0.contains("tally-tmp") }
        #expect(leftovers.isEmpty)
    }

    /// Ids' first lines are kept only by runs that may need them: one that can fail on an id
    /// out of a frozen vocabulary, or one that saves partials for later runs. A frozen run that
    /// reuses a partial saved by a run that was not frozen still names the id's first line.
    @Test func anIdOutOfAFrozenVocabularyIsNamedAtItsFirstLineEvenFromTheStateCache() throws {
        let vocabulary = Self.items.replacingOccurrences(of: "count:", with: "vocabulary:\n  item: {path: vocab/items.parquet, oov: fail}\ncount:")
        let frozen = vocabulary.replacingOccurrences(of: "oov: fail}", with: "oov: fail, mode: frozen}")
        let folder = try TemporaryFolder()
        let plain = try Pipeline.parse(yaml: Self.items, path: folder.path + "/p.yaml", folder: folder.path)
        #expect(!RowRules(plain).keepsFirstLines && RowRules(plain, savingPartials: true).keepsFirstLines)
        #expect(RowRules(try Pipeline.parse(yaml: frozen, path: folder.path + "/p.yaml", folder: folder.path)).keepsFirstLines)

        let header = "user_id,item_id,event,timestamp,weight\n"
        _ = try Self.run(vocabulary, files: ["logs/a.csv": bytes(header + "u,a,v,1,1\nu,b,v,1,1\n")], in: folder)
        try folder.write("logs/b.csv", bytes(header + "u,a,v,1,1\nu,c,v,1,1\nu,c,v,1,1\n"))
        // Saves both files' partials (with first lines), against another vocabulary file.
        let saving = vocabulary.replacingOccurrences(of: "vocab/items.parquet", with: "vocab/other.parquet") + "\nrun: {state_dir: state}"
        _ = try Self.run(saving, files: [:], in: folder)
        // The saved partials (first lines and all) are reused, not counted again.
        let again = try Self.run(saving, files: [:], in: folder)
        let summary = try String(contentsOfFile: again.output + "/summary.json", encoding: .utf8)
        #expect(summary.components(separatedBy: "\"reused\": true").count - 1 == 2)
        for yaml in [frozen, frozen + "\nrun: {state_dir: state}"] {
            let error = try #require(throws: TallyError.self) { try Self.run(yaml, files: [:], in: folder) }
            #expect(error.description.hasSuffix("logs/b.csv:3: error: [tokenize] item id 'c' is not in the frozen vocabulary and oov is 'fail'"),
                    "\(error.description)")
        }
    }

    @Test func aRunawayFieldIsABadRowNotAnOutOfMemory() throws {
        let yaml = Self.items.replacingOccurrences(of: "  columns:", with: "  bad_rows: {policy: skip}\n  max_field_bytes: 1000\n  columns:")
        let huge = String(repeating: "x", count: 5_000)
        let log = "user_id,item_id,event,timestamp,weight\nu1,i1,view,1,2\nu2,i2,\(huge),1,3\nu3,i3,view,1,4\n"
        let run = try Self.run(yaml, files: ["logs/a.csv": bytes(log)], batchBytes: 64)
        #expect(run.report.badRows == 1 && run.report.rowsKept == 2)
        let summary = try String(contentsOfFile: run.output + "/summary.json", encoding: .utf8)
        #expect(summary.contains("\"bad\": 1"))
    }
}
