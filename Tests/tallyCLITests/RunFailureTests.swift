import Foundation
import Testing

/// DESIGN §5 and §6: exit codes and located error messages of `tally run`, and that a failed run
/// leaves earlier output untouched. Messages are golden where the contract fixes them
/// (`path:line:column: error: [stage]`); the wording after the stage is matched on its stable part.
@Suite struct RunFailureTests {
    static let header = "user_id,item_id,event,timestamp,weight\n"
    static let good = header + """
        u1,i1,view,1732000000,1.5
        u2,i2,click,1732000001,2
        u3,i1,view,1732000002,3

        """

    /// A pipeline over `paths` with the given extra `input` lines, vocabulary lines and output folder.
    static func pipeline(paths: String = #"["logs/*.csv"]"#, columns: String = "{item: item_id, weight: weight}",
                         input: String = "", vocabulary: String = "item: {}", weight: String = "weight",
                         count: String = "", loss: String = "sum", output: String = "out",
                         extra: String = "") -> String {
        """
        version: 1
        name: failure-case
        input:
          paths: \(paths)
          columns: \(columns)
        \(input)vocabulary:
          \(vocabulary)
        count:
          key: [item]
          weight: {column: \(weight)}
        \(count)loss:
          kind: \(loss)
        output:
          dir: \(output)
        \(extra)
        """
    }

    /// A folder with `p.yaml` and the given files; tally runs inside it, so paths in messages are
    /// relative to it.
    static func fixture(_ name: String, pipeline: String, files: [String: Data]) throws -> URL {
        let folder = try EndToEnd.temporaryFolder(name)
        try EndToEnd.write(pipeline, to: "p.yaml", in: folder)
        for (path, bytes) in files { try EndToEnd.write(bytes, to: path, in: folder) }
        return folder
    }

    static func run(_ folder: URL, _ more: [String] = []) throws -> EndToEnd.Output {
        try EndToEnd.tally(["run", "p.yaml"] + more, in: folder)
    }

    /// The first stderr line that wholly matches `pattern`, or a recorded failure.
    @discardableResult
    static func expectLine(_ result: EndToEnd.Output, matching pattern: String,
                           sourceLocation: SourceLocation = #_sourceLocation) throws -> Substring? {
        let regex = try Regex(pattern)
        let line = result.stderr.split(separator: "\n").first { $0.wholeMatch(of: regex) != nil }
        #expect(line != nil, "no stderr line matches /\(pattern)/\n\(result.transcript)", sourceLocation: sourceLocation)
        return line
    }

    static func escaped(_ text: String) -> String {
        NSRegularExpression.escapedPattern(for: text)
    }

    /// Expects `line` among the stderr lines, exactly.
    static func expectGolden(_ result: EndToEnd.Output, _ line: String,
                             sourceLocation: SourceLocation = #_sourceLocation) {
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.contains(line), "stderr lacks the line\n\(line)\n\(result.transcript)", sourceLocation: sourceLocation)
    }

    @Test func noInputFileMatchedExits66() throws {
        let folder = try Self.fixture("no-input", pipeline: Self.pipeline(paths: #"["logs/nothing-*.csv"]"#),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 66, "\(result.transcript)")
        try Self.expectLine(result, matching: #"(.*: )?error: \[read\] no input file matched '.*logs/nothing-\*\.csv'"#)
        // DESIGN §5: errors name the place; here the place is the `paths` entry of the pipeline file.
        try Self.expectLine(result, matching: #"p\.yaml:4:\d+: error: \[read\] no input file matched .*nothing-\*\.csv.*"#)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    /// A day missing from a window of named days stops the run, though the other days match.
    @Test func aNamedInputFileThatDoesNotExistExits66() throws {
        let folder = try Self.fixture("missing-day", pipeline: Self.pipeline(paths: #"["logs/{good,later}.csv"]"#),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 66, "\(result.transcript)")
        Self.expectGolden(result, "p.yaml:4:11: error: [read] no input file logs/later.csv: input.paths names it without a wildcard")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test func aMissingColumnExits65AtLineOneOfTheFile() throws {
        let folder = try Self.fixture("missing-column",
                                      pipeline: Self.pipeline(columns: "{item: product_id, weight: weight}"),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(result.transcript)")
        // The contract fixes `logs/good.csv:1: error: [read] missing column`; the rest is the engine's wording.
        Self.expectGolden(result, "logs/good.csv:1: error: [read] missing column 'product_id' "
                          + "(header has: user_id, item_id, event, timestamp, weight)")
    }

    /// Bad rows on line 3 of `logs/bad.csv`, with the field (1-based) the error is in, when one is.
    static let badRows: [(row: Data, message: String)] = [
        (Data("u2,i2,click,1732000001,n/a".utf8), "logs/bad.csv:3:5: error: [tokenize] unparsable weight 'n/a'"),
        (Data("u2,,click,1732000001,2".utf8), "logs/bad.csv:3:2: error: [tokenize] empty item id"),
        (Data("u2,i".utf8) + Data([0xFF]) + Data(",click,1732000001,2".utf8),
         "logs/bad.csv:3:2: error: [tokenize] item id is not valid UTF-8"),
        (Data("u2,i2,click".utf8), "logs/bad.csv:3:4: error: [read] expected 5 fields, found 3"),
        (Data("u2,i2,click,1732000001,2,extra".utf8), "logs/bad.csv:3:6: error: [read] expected 5 fields, found 6"),
        (Data(#"u2,"i2"x,click,1732000001,2"#.utf8),
         "logs/bad.csv:3:2: error: [read] unexpected character after closing quote"),
        (Data(#"u2,i"2,click,1732000001,2"#.utf8), "logs/bad.csv:3:2: error: [read] quote in unquoted field"),
    ]

    @Test(arguments: 0..<badRows.count)
    func aBadRowUnderFailExits65AtItsLineAndColumn(_ which: Int) throws {
        let (row, message) = Self.badRows[which]
        let bytes = Data((Self.header + "u1,i1,view,1732000000,1.5\n").utf8) + row
            + Data("\nu3,i1,view,1732000002,3\n".utf8)
        let folder = try Self.fixture("bad-row", pipeline: Self.pipeline(input: "  bad_rows: {policy: fail}\n"),
                                      files: ["logs/bad.csv": bytes])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(result.transcript)")
        Self.expectGolden(result, message)
    }

    /// Without a header, a row is short when it lacks a column the pipeline names: located at
    /// the first field it lacks.
    @Test func aHeaderlessRowWithoutANamedColumnExits65AtTheMissingField() throws {
        let bytes = Data("u1,i1,view,1732000000,1.5\nu2,i2\n".utf8)
        let pipeline = Self.pipeline(columns: "{item: 1}", input: "  header: false\n  bad_rows: {policy: fail}\n", weight: "4")
        let folder = try Self.fixture("short-headerless-row", pipeline: pipeline, files: ["logs/bad.csv": bytes])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(result.transcript)")
        Self.expectGolden(result, "logs/bad.csv:2:3: error: [read] expected at least 5 fields, found 2")
    }

    @Test func moreBadRowsThanMaxExits65AndExactlyMaxSucceeds() throws {
        let rows = Self.header + "u1,i1,view,1,1\nu2,i2,view,1,n/a\nu3,i3,view,1,2\nu4,,view,1,1\n"
        for (max, status) in [(1, Int32(65)), (2, Int32(0))] {
            let folder = try Self.fixture("too-many-bad-rows",
                                          pipeline: Self.pipeline(input: "  bad_rows: {policy: skip, max: \(max)}\n"),
                                          files: ["logs/bad.csv": Data(rows.utf8)])
            defer { EndToEnd.cleanUp(folder) }
            let result = try Self.run(folder)
            #expect(result.status == status, "max \(max): \(result.transcript)")
            if status == 65 {
                // The second bad row (line 5) is the one too many.
                Self.expectGolden(result, "logs/bad.csv:5:2: error: [tokenize] too many bad rows: "
                                  + "more than max 1 (policy skip); this one: empty item id")
                #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
            } else {
                try EndToEnd.check(folder.appendingPathComponent("p.yaml"), folder.appendingPathComponent("out"))
            }
        }
    }

    /// A zstd frame of 20,000 rows, compressed by the `zstd` tool.
    static func compressedLog() throws -> Data {
        let folder = try EndToEnd.temporaryFolder("zstd")
        defer { try? FileManager.default.removeItem(at: folder) }
        let rows = (0..<20_000).map { "u\($0 % 97),i\($0 % 1013),view,\(1_732_000_000 + $0),\($0 % 7).5\n" }.joined()
        let plain = try EndToEnd.write(Self.header + rows, to: "log.csv", in: folder)
        let zstd = try EndToEnd.run("/usr/bin/env", ["zstd", "-q", "-3", plain.path, "-o", plain.path + ".zst"])
        try #require(zstd.status == 0, "\(zstd.transcript)")
        return try Data(contentsOf: URL(fileURLWithPath: plain.path + ".zst"))
    }

    @Test(arguments: ["truncated", "trailing garbage"])
    func aCorruptZstdFileExits65NamingTheFileAndAByteOffset(_ damage: String) throws {
        let whole = try Self.compressedLog()
        let bytes = damage == "truncated" ? whole.prefix(whole.count / 2) : whole + Data("not a frame".utf8)
        let folder = try Self.fixture("zstd-\(damage.prefix(5))", pipeline: Self.pipeline(paths: #"["logs/*.csv.zst"]"#),
                                      files: ["logs/t.csv.zst": Data(bytes)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(damage): \(result.transcript)")
        // Offsets are into the compressed file: where it ends, or where the last frame ended.
        Self.expectGolden(result, damage == "truncated"
                          ? "logs/t.csv.zst: error: [read] truncated zstd frame at byte \(whole.count / 2)"
                          : "logs/t.csv.zst: error: [read] unexpected data after the last zstd frame at byte \(whole.count)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    /// Invalid pipelines and their golden messages.
    static let invalidPipelines: [(text: String, message: String)] = [
        (pipeline(extra: "colour: red\n"),
         "p.yaml:15:1: error: [pipeline] unknown key 'colour' (expected one of: version, name, description, "
         + "input, vocabulary, count, loss, gradients, output, run)"),
        (pipeline(input: "  colour: red\n"),
         "p.yaml:6:3: error: [pipeline] unknown key 'colour' in input (expected one of: paths, header, "
         + "delimiter, columns, time_format, where, bad_rows, max_field_bytes)"),
        (pipeline(loss: "hinge"),
         "p.yaml:12:9: error: [pipeline] loss.kind: unknown value 'hinge' (expected one of: sum, mse, "
         + "poisson_nll, multinomial_nll, kl)"),
        (pipeline(output: "out/${date}"),
         "p.yaml:14:8: error: [pipeline] output.dir: unset variable 'date' (give it with --var date=VALUE)"),
    ]

    @Test(arguments: 0..<invalidPipelines.count)
    func anInvalidPipelineExits78AtFileLineColumn(_ which: Int) throws {
        let (text, message) = Self.invalidPipelines[which]
        let folder = try Self.fixture("invalid-pipeline", pipeline: text, files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 78, "\(result.transcript)")
        Self.expectGolden(result, message)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    @Test func anOutputFolderThatCannotBeCreatedExits73() throws {
        let folder = try Self.fixture("unwritable", pipeline: Self.pipeline(output: "blocker/out"),
                                      files: ["logs/good.csv": Data(Self.good.utf8), "blocker": Data("a file".utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 73, "\(result.transcript)")
        try Self.expectLine(result, matching: #"(.*/)?blocker/out: error: \[write\] cannot create the output folder: blocker is not a folder"#)
    }

    /// Sums past the largest double — each weight finite — are bad input, not an output of
    /// infinities and NaNs: weights too large, or decayed over too many half-lives (a row 1100
    /// half-lives after the reference weighs 2^1100).
    @Test(arguments: [
        ("u1,a,click,100,1e308\nu2,a,click,100,1e308\n", "", "'a' is inf"),
        ("u1,b,click,1704067200,1\nu2,c,click,1799107200,1\n",
         "  decay: {half_life: 1d, reference: \"2024-01-01T00:00:00Z\"}\n", "'c' is inf"),
    ])
    func sumsPastTheLargestDoubleExit65(_ rows: String, _ decay: String, _ what: String) throws {
        let pipeline = Self.pipeline(columns: "{item: item_id, time: timestamp, weight: weight}", count: decay)
        let folder = try Self.fixture("overflow", pipeline: pipeline, files: ["logs/big.csv": Data((Self.header + rows).utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(result.transcript)")
        Self.expectGolden(result, "error: [reduce] the value of key \(what): the sums pass the largest double "
                          + "(weights too large, or decayed over too many half-lives); nothing was written")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    /// A loss undefined for the values (poisson_nll of a negative sum, which lgamma would still
    /// give a number for) is bad input too; kl's ∂L/∂v_k = −∞ for a key with rows but v_k = 0,
    /// and the ∂L/∂λ it makes, are as defined.
    @Test(arguments: [("poisson_nll", "u1,a,click,1732086400,1\nu2,b,click,1732086400,-2.5\n", Int32(65)),
                      ("kl", "u1,a,click,1732086400,1\nu2,b,click,1732000000,1\nu3,b,click,1732086400,-0.5\n", Int32(0))])
    func aLossUndefinedForTheValuesExits65ButKlsInfiniteGradientsAreKept(_ loss: String, _ rows: String, _ status: Int32) throws {
        let rows = Self.header + rows
        let pipeline = Self.pipeline(columns: "{item: item_id, time: timestamp, weight: weight}",
                                     count: "  decay: {half_life: 1d}\n", loss: "\(loss)\ngradients: {parameters: [decay]}")
        let folder = try Self.fixture("undefined-loss", pipeline: pipeline, files: ["logs/a.csv": Data(rows.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == status, "\(result.transcript)")
        if status == 65 {
            Self.expectGolden(result, "error: [reduce] the value of key 'b' is -2.5: poisson_nll is defined for counts "
                              + "of 0 or more (negative weights?); nothing was written")
        }
    }

    @Test func anOutOfVocabularyIdUnderOovFailExits65() throws {
        let folder = try Self.fixture("oov-fail", pipeline: Self.pipeline(vocabulary: "item: {min_count: 2, oov: fail}"),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 65, "\(result.transcript)")
        // Out of vocabulary is decided after the whole input (min_count), so the place is the vocabulary entry.
        Self.expectGolden(result, "p.yaml:7:3: error: [tokenize] item id 'i2' is out of vocabulary "
                          + "(seen 1 time(s); min_count 2, max_size 0) and oov is 'fail'")
    }

    /// Command-line misuse is 64; a pipeline file that does not exist is "no input" (66).
    static let misuse: [(arguments: [String], status: Int32)] = [
        (["run"], 64),
        (["run", "p.yaml", "--var", "novalue"], 64),
        (["run", "p.yaml", "--var", "d=a", "--var", "d=b"], 64),
        (["run", "p.yaml", "--var", "1d=x"], 64),
        (["run", "p.yaml", "--state", "out/state"], 64),
        (["run", "p.yaml", "--shard", "0/2", "--partials", "out/partials"], 64),
        (["reduce", "p.yaml", "--partials", "out"], 64),
        (["run", "p.yaml", "--workers", "0"], 64),
        (["run", "p.yaml", "--workers", "many"], 64),
        (["run", "p.yaml", "--workers", "1000000000"], 64),
        (["run", "missing.yaml"], 66),
    ]

    @Test(arguments: 0..<misuse.count)
    func commandLineMisuseHasItsExitCode(_ which: Int) throws {
        let (arguments, status) = Self.misuse[which]
        let folder = try Self.fixture("usage", pipeline: Self.pipeline(), files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try EndToEnd.tally(arguments, in: folder)
        #expect(result.status == status, "\(arguments): \(result.transcript)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out").path))
    }

    /// A successful run replaces the whole output folder: no file of an earlier run survives.
    @Test func aSuccessfulRunReplacesTheWholeOutputFolder() throws {
        let rows = Self.good + "u4,i4,view,1,n/a\n"
        let folder = try Self.fixture("replaces-output", pipeline: Self.pipeline(input: "  bad_rows: {policy: quarantine}\n"),
                                      files: ["logs/good.csv": Data(rows.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let first = try Self.run(folder)
        try #require(first.status == 0, "\(first.transcript)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("out/quarantine.parquet").path))
        try EndToEnd.write(Self.pipeline(input: "  bad_rows: {policy: skip}\n"), to: "p.yaml", in: folder)
        let second = try Self.run(folder)
        try #require(second.status == 0, "\(second.transcript)")
        try EndToEnd.check(folder.appendingPathComponent("p.yaml"), folder.appendingPathComponent("out"))
    }

    /// A run never deletes what Tally did not write: an output folder that holds anything else
    /// (another day's outputs, under a folder an empty variable named; notes) stops it, untouched.
    @Test func anOutputFolderHoldingOtherFilesIsNeverReplaced() throws {
        let folder = try Self.fixture("foreign-output", pipeline: Self.pipeline(),
                                      files: ["logs/good.csv": Data(Self.good.utf8), "out/notes.txt": Data("keep me".utf8),
                                              "out/2024-11-20/counts.parquet": Data("a day".utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 73, "\(result.transcript)")
        Self.expectGolden(result, "out: error: [write] the output folder holds 2 entries that Tally does not write "
                          + "('2024-11-20', 'notes.txt'), and a run replaces the whole folder: stopped rather than "
                          + "delete them; choose another output.dir, or empty this one")
        let out = folder.appendingPathComponent("out")
        #expect(try Data(contentsOf: out.appendingPathComponent("notes.txt")) == Data("keep me".utf8))
        #expect(try Data(contentsOf: out.appendingPathComponent("2024-11-20/counts.parquet")) == Data("a day".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted() == ["2024-11-20", "notes.txt"])
    }

    /// Nor can an output folder hold what the run reads or keeps: the pipeline file, the inputs, a
    /// vocabulary, the state cache. That is an invalid pipeline (78), found before anything runs.
    @Test(arguments: [(".", "the pipeline file (p.yaml)"), ("logs", "input.paths (logs/*.csv)"),
                      ("out", "vocabulary.item.path (out/vocab/items.parquet)")])
    func anOutputFolderHoldingWhatTheRunReadsIsAnInvalidPipeline(_ output: String, _ held: String) throws {
        let folder = try Self.fixture("output-holds-inputs",
                                      pipeline: Self.pipeline(vocabulary: "item: {path: out/vocab/items.parquet}", output: output),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder)
        #expect(result.status == 78, "\(result.transcript)")
        try Self.expectLine(result, matching: #"p\.yaml:\d+:\d+: error: \[pipeline\] output\.dir \S+ holds "#
                            + Self.escaped(held) + "; each run replaces the whole output folder, which would delete it")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("p.yaml").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("logs/good.csv").path))
    }

    /// Nor may input.paths match what a run writes or reads besides the logs: it would be read
    /// as CSV, the state cache and a written-back vocabulary from the second run on (a scheduled
    /// job that works once, then fails every day). An invalid pipeline (78), or with `--state`,
    /// a usage error (64), before anything runs.
    @Test(arguments: [("item: {path: logs/vocab.parquet}", "", [String](), Int32(78),
                       "p.yaml:4:11: error: [pipeline] input.paths 'logs/*' matches vocabulary.item.path (logs/vocab.parquet), "
                        + "which a run would read as logs: narrow the pattern or move them"),
                      ("item: {}", "run: {state_dir: logs}", [], 78,
                       "p.yaml:4:11: error: [pipeline] input.paths 'logs/*' matches the files of run.state_dir (logs), "
                        + "which a run would read as logs: narrow the pattern or move them"),
                      ("item: {}", "", ["--state", "logs"], 64,
                       "error: [pipeline] input.paths 'logs/*' matches the files --state logs holds, which a run would "
                        + "read as logs: choose a folder outside the inputs")])
    func inputPathsMatchingWhatARunKeepsIsRefused(_ vocabulary: String, _ extra: String, _ options: [String], _ status: Int32,
                                                 _ message: String) throws {
        let pipeline = Self.pipeline(paths: #"["logs/*"]"#, vocabulary: vocabulary, extra: extra)
        let folder = try Self.fixture("inputs-match-kept", pipeline: pipeline, files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let result = try Self.run(folder, options)
        #expect(result.status == status, "\(result.transcript)")
        Self.expectGolden(result, message)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("logs").path) == ["good.csv"])
    }

    /// A failed run neither touches the previous output nor leaves its temporary folder behind.
    @Test(arguments: ["bad row", "corrupt zstd", "invalid pipeline"])
    func aFailedRunLeavesThePreviousOutputUntouched(_ failure: String) throws {
        let folder = try Self.fixture("keeps-output", pipeline: Self.pipeline(paths: #"["logs/*"]"#),
                                      files: ["logs/good.csv": Data(Self.good.utf8)])
        defer { EndToEnd.cleanUp(folder) }
        let first = try Self.run(folder)
        try #require(first.status == 0, "\(first.transcript)")
        let out = folder.appendingPathComponent("out")
        let before = try EndToEnd.files(in: out)
        try #require(before["counts.parquet"] != nil)
        switch failure {
        case "bad row":
            try EndToEnd.write(Self.header + "u9,i9,view,1,n/a\n", to: "logs/later.csv", in: folder)
        case "corrupt zstd":
            try EndToEnd.write(try Self.compressedLog().prefix(100), to: "logs/later.csv.zst", in: folder)
        default:
            try EndToEnd.write(Self.pipeline(extra: "colour: red\n"), to: "p.yaml", in: folder)
        }
        let second = try Self.run(folder)
        #expect(second.status != 0, "\(failure): the second run should fail\n\(second.transcript)")
        #expect(try EndToEnd.files(in: out) == before, "\(failure): the previous output changed")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path)
            .filter { $0.hasPrefix(".out.tally-tmp-") || $0.contains("tally-tmp") }
        #expect(leftovers.isEmpty, "\(failure): temporary folders left behind: \(leftovers)")
    }
}
