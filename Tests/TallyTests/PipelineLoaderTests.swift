import Foundation
import Testing
@testable import Tally

@Suite struct PipelineLoaderTests {
    typealias F = PipelineFixtures

    @Test func theFullExampleLoadsWithEveryValueAsWritten() throws {
        let path = F.path("full.yaml")
        let pipeline = try Pipeline.load(path: path, variables: ["date": "2026-11-27"])
        let fixtures = F.folder
        let tests = URL(fileURLWithPath: fixtures).deletingLastPathComponent().deletingLastPathComponent().path

        #expect(pipeline.path == path)
        #expect(pipeline.folder == fixtures)
        #expect(pipeline.name == "item-popularity")
        #expect(pipeline.description == "Daily item popularity with a 7-day half-life.")

        let input = pipeline.input
        #expect(input.paths.map(\.value) == [tests + "/Fixtures/sample-data/logs/*.csv.zst", "/data/extra/*.csv"])
        #expect(input.paths[0].location == InputLocation(path: path, line: 9, column: 11))
        #expect(input.header)
        #expect(input.delimiter == UInt8(ascii: "\t"))
        #expect(input.columns.mapValues(\.value) == [
            .item: .name("item_id"), .user: .name("user_id"), .time: .name("timestamp"),
            .weight: .name("weight"), .event: .name("event"),
        ])
        #expect(input.columns[.event]?.location == InputLocation(path: path, line: 17, column: 12))
        #expect(input.timeFormat == .unixMillis)
        #expect(input.filters.map(\.column.value) == [.name("event"), .name("2024")])
        #expect(input.filters.map(\.values) == [["click", "cart", "purchase"], ["1", "yes", ""]])
        #expect(input.badRows.policy == .quarantine)
        #expect(input.badRows.max == 10)

        let item = try #require(pipeline.vocabulary[.item])
        #expect(item.path?.value == fixtures + "/vocab/items.parquet")
        #expect(item.mode == .frozen)
        #expect(item.order == .firstSeen)
        #expect(item.minCount == 2)
        #expect(item.maxSize == 1000)
        #expect(item.oov == .drop)
        #expect(item.location == InputLocation(path: path, line: 27, column: 3))
        let user = try #require(pipeline.vocabulary[.user])
        #expect(user.path == nil)
        #expect(user.mode == .extend)
        #expect(user.order == .frequency)
        #expect(user.minCount == 1)
        #expect(user.maxSize == 0)
        #expect(user.oov == .bucket)

        let count = pipeline.count
        #expect(count.key.value == [.item, .time])
        guard case .events(let table, let defaultWeight) = count.weight else {
            Issue.record("expected event weights, got \(count.weight)")
            return
        }
        #expect(table == ["view": 1, "click": 3, "purchase": 10.5])
        #expect(defaultWeight == 0.5)
        let decay = try #require(count.decay)
        #expect(decay.halfLife == 129_600)
        // 2026-01-08T12:00:00+01:00 is 11:00 UTC.
        let reference: Double = 1_767_225_600 + 7 * 86400 + 11 * 3600
        #expect(decay.reference == .instant(reference))
        let bins = try #require(count.timeBins)
        #expect(bins.width == 129_600)
        #expect(bins.origin == 1_767_225_600)
        #expect(bins.kernel == .triangular)
        #expect(bins.bandwidth == 0.75)
        #expect(count.smoothing == nil)
        #expect(count.embedding == nil)

        #expect(pipeline.loss.kind.value == .poissonNLL)
        #expect(pipeline.loss.target?.value == fixtures + "/models/popularity.parquet")
        #expect(pipeline.loss.targetColumn == "rate")

        #expect(pipeline.gradients.parameters == [.decay, .bandwidth])
        #expect(pipeline.gradients.perEvent)
        #expect(!pipeline.gradients.embeddingTable)

        #expect(pipeline.output.dir.value == tests + "/Fixtures/out/item-popularity/2026-11-27")
        #expect(pipeline.output.compression == .zstd)
        #expect(pipeline.output.zstdLevel == 19)
        #expect(pipeline.output.rowGroupRows == 65536)

        #expect(pipeline.run.workers == 4)
        #expect(pipeline.run.stateDir?.value == tests + "/Fixtures/state/item-popularity")
    }

    @Test func omittedKeysTakeTheirDefaults() throws {
        let pipeline = try Pipeline.load(path: F.path("minimal.yaml"))
        #expect(pipeline.description == nil)
        #expect(pipeline.input.paths.map(\.value) == [F.folder + "/logs/*.csv"])
        #expect(pipeline.input.header)
        #expect(pipeline.input.delimiter == UInt8(ascii: ","))
        #expect(pipeline.input.columns.mapValues(\.value) == [.item: .name("item_id")])
        #expect(pipeline.input.timeFormat == .unixSeconds)
        #expect(pipeline.input.filters.isEmpty)
        #expect(pipeline.input.badRows.policy == .fail)
        #expect(pipeline.input.badRows.max == 0)
        // The key's roles are tokenized with default settings when not listed.
        #expect(Set(pipeline.vocabulary.keys) == [.item])
        let item = try #require(pipeline.vocabulary[.item])
        #expect(item.path == nil)
        #expect(item.mode == .extend)
        #expect(item.order == .frequency)
        #expect(item.minCount == 1)
        #expect(item.maxSize == 0)
        #expect(item.oov == .bucket)
        #expect(item.location == nil)
        #expect(pipeline.count.key.value == [.item])
        guard case .one = pipeline.count.weight else {
            Issue.record("expected weight one, got \(pipeline.count.weight)")
            return
        }
        #expect(pipeline.count.decay == nil)
        #expect(pipeline.count.timeBins == nil)
        #expect(pipeline.count.smoothing == nil)
        #expect(pipeline.count.embedding == nil)
        #expect(pipeline.loss.kind.value == .sum)
        #expect(pipeline.loss.target == nil)
        #expect(pipeline.loss.targetColumn == "")
        #expect(pipeline.gradients.parameters.isEmpty)
        #expect(!pipeline.gradients.perEvent)
        #expect(!pipeline.gradients.embeddingTable)
        #expect(pipeline.output.dir.value == F.folder + "/out")
        #expect(pipeline.output.compression == .zstd)
        #expect(pipeline.output.zstdLevel == 3)
        #expect(pipeline.output.rowGroupRows == 1_048_576)
        #expect(pipeline.run.workers == nil)
        #expect(pipeline.run.stateDir == nil)
    }

    @Test func defaultsInsideOptionalSections() throws {
        let pipeline = try F.parse(F.minimal + """
            count:
              key: [item, time]
              decay: {half_life: 7d}
              time_bins: {width: 1d}
            vocabulary: {user: }
            run: {workers: auto}
            """)
        let decay = try #require(pipeline.count.decay)
        #expect(decay.reference == .end)
        let bins = try #require(pipeline.count.timeBins)
        #expect(bins.origin == 0)
        #expect(bins.kernel == .hard)
        #expect(bins.bandwidth == 1)
        #expect(pipeline.vocabulary[.user]?.mode == .extend)
        #expect(pipeline.run.workers == nil)
    }

    @Test(arguments: [
        (Pipeline.Loss.Kind.multinomialNLL, "logit"), (.kl, "logit"), (.poissonNLL, "log_rate"), (.mse, "target"),
    ])
    func theTargetColumnDefaultsByLossKind(kind: Pipeline.Loss.Kind, column: String) throws {
        let pipeline = try F.parse("""
            version: 1
            name: x
            input: {paths: a.csv, columns: {item: i}}
            loss: {kind: \(kind.rawValue), target: t.csv}
            output: {dir: out}
            """)
        #expect(pipeline.loss.targetColumn == column)
    }

    @Test func smoothingAndEmbeddingExamplesLoad() throws {
        let smoothing = try F.parse(F.minimal + """
            count:
              key: [user]
              smoothing: {temperature: 0.5}
            gradients: {parameters: [temperature]}
            """)
        #expect(smoothing.count.smoothing?.temperature == 0.5)
        #expect(Set(smoothing.vocabulary.keys) == [.user])

        let embedding = try F.parse("""
            version: 1
            name: bags
            input: {paths: a.csv, columns: {item: item_id, user: user_id}}
            count:
              key: [user, item]
              embedding: {group: user, dim: 32, table: models/item-emb.parquet, seed: 42}
            loss: {kind: mse, target: models/bags.parquet}
            gradients: {embedding_table: true, per_event: true}
            output: {dir: out}
            """)
        let bags = try #require(embedding.count.embedding)
        #expect(bags.group == .user)
        #expect(bags.dim == 32)
        #expect(bags.table?.value == F.inlineFolder + "/models/item-emb.parquet")
        #expect(bags.seed == 42)
        #expect(embedding.gradients.embeddingTable)
        #expect(Set(embedding.vocabulary.keys) == [.user, .item])
    }

    @Test func columnsAreNumbersWhenThereIsNoHeader() throws {
        let pipeline = try F.parse("""
            version: 1
            name: x
            input:
              paths: a.csv
              header: false
              delimiter: ";"
              columns: {item: 0, user: "2"}
              where: {3: [click]}
            count: {weight: {column: 4}}
            loss: {kind: sum}
            output: {dir: out}
            """)
        #expect(!pipeline.input.header)
        #expect(pipeline.input.delimiter == UInt8(ascii: ";"))
        #expect(pipeline.input.columns.mapValues(\.value) == [.item: .index(0), .user: .index(2)])
        #expect(pipeline.input.filters.map(\.column.value) == [.index(3)])
        guard case .column(let column) = pipeline.count.weight else {
            Issue.record("expected a weight column")
            return
        }
        #expect(column.value == .index(4))
    }

    @Test func aQuotedNumberNamesAHeaderColumn() throws {
        let pipeline = try F.parse("""
            version: 1
            name: x
            input: {paths: a.csv, columns: {item: "7"}}
            loss: {kind: sum}
            output: {dir: out}
            """)
        #expect(pipeline.input.columns[.item]?.value == .name("7"))
    }

    @Test(arguments: [
        ("logs/*.csv", "/work/project/pipelines/logs/*.csv"),
        ("../sample-data/logs/*.csv.zst", "/work/project/sample-data/logs/*.csv.zst"),
        ("./a/./b//c/", "/work/project/pipelines/a/b/c"),
        ("../../../../../x", "/x"),
        ("/abs/./y/../z.csv", "/abs/z.csv"),
    ])
    func pathsResolveAgainstThePipelineFolder(written: String, resolved: String) throws {
        let pipeline = try F.parse("""
            version: 1
            name: x
            input: {paths: ["\(written)/in"], columns: {item: i}}
            loss: {kind: sum}
            output: {dir: "\(written)/out"}
            run: {state_dir: "\(written)/state"}
            """)
        let base = resolved == "/" ? "" : resolved
        #expect(pipeline.input.paths.map(\.value) == [base + "/in"])
        #expect(pipeline.output.dir.value == base + "/out")
        #expect(pipeline.run.stateDir?.value == base + "/state")
    }

    @Test func aRelativeFolderIsTakenFromTheWorkingDirectory() throws {
        let pipeline = try Pipeline.parse(yaml: """
            version: 1
            name: x
            input: {paths: a.csv, columns: {item: i}}
            loss: {kind: sum}
            output: {dir: out}
            """, path: "pipelines/p.yaml", folder: "pipelines")
        let cwd = FileManager.default.currentDirectoryPath
        #expect(pipeline.folder == PathText.normalize(cwd + "/pipelines"))
        #expect(pipeline.output.dir.value == PathText.normalize(cwd + "/pipelines/out"))
    }

    @Test func variablesAreSubstitutedInEveryStringValue() throws {
        let pipeline = try F.parse("""
            version: 1
            name: pop-${day}
            description: "from ${day} to ${day}; costs $5"
            input:
              paths: ["${root}/logs/${day}.csv.zst"]
              columns: {item: "${itemColumn}"}
              where: {event: ["${event}", view]}
            count: {key: [item], smoothing: {temperature: "${tau}"}}
            loss: {kind: sum}
            output: {dir: "../out/${day}", zstd_level: "${level}"}
            run: {workers: "${workers}"}
            """, variables: ["day": "2026-11-27", "root": "/data", "itemColumn": "sku", "event": "click",
                             "tau": "0.25", "level": "7", "workers": "3", "unused": "x"])
        #expect(pipeline.name == "pop-2026-11-27")
        #expect(pipeline.description == "from 2026-11-27 to 2026-11-27; costs $5")
        #expect(pipeline.input.paths.map(\.value) == ["/data/logs/2026-11-27.csv.zst"])
        #expect(pipeline.input.columns[.item]?.value == .name("sku"))
        #expect(pipeline.input.filters.first?.values == ["click", "view"])
        #expect(pipeline.count.smoothing?.temperature == 0.25)
        #expect(pipeline.output.dir.value == "/work/project/out/2026-11-27")
        #expect(pipeline.output.zstdLevel == 7)
        #expect(pipeline.run.workers == 3)
    }

    @Test func theHashCoversTheBytesAndTheVariablesTheFileUses() throws {
        let yaml = """
            version: 1
            name: x
            input: {paths: a.csv, columns: {item: i}}
            loss: {kind: sum}
            output: {dir: "out/${date}"}
            """
        let day1 = try F.parse(yaml, variables: ["date": "1"]).hash
        #expect(day1.count == 64)
        #expect(try F.parse(yaml, variables: ["date": "1", "other": "y"]).hash == day1)
        #expect(try F.parse(yaml, variables: ["date": "2"]).hash != day1)
        #expect(try F.parse(yaml + "\n", variables: ["date": "1"]).hash != day1)
        var expected = SHA256()
        expected.update(yaml)
        expected.update([0])
        expected.update("date=1")
        #expect(day1 == SHA256.hex(expected.finalize()))

        let plain = try Pipeline.load(path: F.path("minimal.yaml"))
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: F.path("minimal.yaml"))))
        #expect(plain.hash == SHA256.hex(SHA256.hash(bytes)))
    }

    @Test func theDesignSampleIsACatalogueWhoseContradictionsAreReported() {
        // DESIGN §2's sample shows every key at once; some of them exclude each other (§3).
        let path = F.path("design-sample.yaml")
        let problems = Pipeline.validate(path: path, variables: ["date": "2026-11-27"]).map { "\($0)" }
        #expect(problems == [
            "\(path):39:3: error: [pipeline] count.time_bins applies only to the key [item, time], not [item]",
            "\(path):44:3: error: [pipeline] count.smoothing cannot be combined with count.embedding "
                + "(bags sum the rows' own weights)",
            "\(path):53:9: error: [pipeline] loss.kind multinomial_nll cannot be used with count.embedding "
                + "(expected sum or mse)",
            "\(path):55:3: error: [pipeline] loss.target_column does not apply with count.embedding "
                + "(the target's columns are e0..e{dim-1})",
            "\(path):58:36: error: [pipeline] gradients.parameters: 'bandwidth' needs a time_bins kernel "
                + "other than hard, which has no bandwidth",
        ])
    }

    @Test func aMissingFileIsNoInput() throws {
        let error = try #require(throws: TallyError.self) {
            try Pipeline.load(path: "no/such/pipeline.yaml")
        }
        #expect(error.kind == .noInput)
        #expect("\(error)" == "no/such/pipeline.yaml: error: [pipeline] cannot open the pipeline file: "
                + "No such file or directory")
    }

    @Test func aFolderIsNoInput() throws {
        let error = try #require(throws: TallyError.self) {
            try Pipeline.load(path: F.folder)
        }
        #expect(error.kind == .noInput)
        #expect("\(error)" == "\(F.folder): error: [pipeline] cannot read the pipeline file: Is a directory")
    }

    @Test func loadThrowsTheFirstProblemInFileOrder() throws {
        let error = try #require(throws: TallyError.self) {
            try F.parse("""
                version: 1
                name: x
                input: {paths: a.csv, columns: {item: i}, header: maybe}
                loss: {kind: sum}
                output: {dir: out, zstd_level: 99}
                """)
        }
        #expect(error.kind == .config)
        #expect(error.kind.exitCode == 78)
        #expect(error.location == InputLocation(path: "p.yaml", line: 3, column: 51))
        #expect("\(error)" == "p.yaml:3:51: error: [pipeline] input.header: expected true or false, found 'maybe'")
    }

    @Test func validateReportsEveryProblemAtOnce() {
        let problems = F.problems("""
            version: 1
            name: bad name
            input:
              paths: a.csv
              columns: {item: item_id}
              delimiter: ",,"
            count:
              key: [user]
              smoothing: {temperature: 0}
            loss: {kind: poisson}
            output: {dir: "out/${date}", colour: red}
            """)
        #expect(problems == [
            "p.yaml:2:7: error: [pipeline] name: expected a name of letters, digits, '_', '.' and '-', "
                + "found 'bad name'",
            "p.yaml:6:14: error: [pipeline] input.delimiter: expected one byte such as \",\", \"\\t\", \";\" "
                + "or \"|\", found ',,'",
            "p.yaml:8:8: error: [pipeline] count.key [user] uses user, but input.columns has no user column",
            "p.yaml:9:28: error: [pipeline] count.smoothing.temperature: must be greater than 0, found 0",
            "p.yaml:10:14: error: [pipeline] loss.kind: unknown value 'poisson' "
                + "(expected one of: sum, mse, poisson_nll, multinomial_nll, kl)",
            "p.yaml:11:15: error: [pipeline] output.dir: unset variable 'date' (give it with --var date=VALUE)",
            "p.yaml:11:30: error: [pipeline] unknown key 'colour' in output "
                + "(expected one of: dir, compression, zstd_level, row_group_rows)",
        ])
    }
}
