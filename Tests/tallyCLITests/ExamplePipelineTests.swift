import Foundation
import Testing

/// Every file in `pipelines/` is run by the built binary, and its outputs are checked by
/// `check_run.py` (DuckDB counts, NumPy losses, pyarrow/DuckDB/Polars readers).
@Suite struct ExamplePipelineTests {
    /// The files in `pipelines/` and how each is run; a file missing here fails `everyPipelineFileIsRun`.
    static let examples = ["quickstart.yaml", "movielens-ratings.yaml", "movielens-tags.yaml",
                           "daily-items.yaml", "frozen-rerun.yaml", "rolling-window.yaml"]

    @Test func everyPipelineFileIsRun() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: EndToEnd.pipelines.path)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
        #expect(Set(files) == Set(Self.examples))
    }

    @Test(arguments: examples)
    func everyPipelineFileValidates(_ file: String) throws {
        let result = try EndToEnd.tally(["validate", "pipelines/\(file)", "--var", "date=2024-11-19",
                                         "--var", "days={2024-11-19,2024-11-20}"], in: EndToEnd.root)
        #expect(result.status == 0, "\(result.transcript)")
    }

    @Test(arguments: ["quickstart", "movielens-ratings", "movielens-tags"])
    func aSingleRunPipelineMatchesTheIndependentCheck(_ name: String) throws {
        let sandbox = try EndToEnd.sandbox(name)
        defer { EndToEnd.cleanUp(sandbox) }
        let pipeline = sandbox.appendingPathComponent("pipelines/\(name).yaml")
        let run = try EndToEnd.tally(["run", pipeline.path], in: sandbox)
        try #require(run.status == 0, "tally run \(name).yaml failed:\n\(run.transcript)")
        try EndToEnd.check(pipeline, sandbox.appendingPathComponent("out/\(name)"))
    }

    /// daily-items extends a persistent vocabulary day by day: indices of earlier ids never move.
    @Test func dailyItemsExtendsItsVocabularyDayByDay() throws {
        let sandbox = try EndToEnd.sandbox("daily-items")
        defer { EndToEnd.cleanUp(sandbox) }
        try runDailyItems(in: sandbox, checked: true)
    }

    /// frozen-rerun reads the vocabulary daily-items wrote, and leaves it as it was.
    @Test func frozenRerunUsesTheVocabularyOfDailyItems() throws {
        let sandbox = try EndToEnd.sandbox("frozen-rerun")
        defer { EndToEnd.cleanUp(sandbox) }
        try runDailyItems(in: sandbox, checked: false)
        let vocabulary = sandbox.appendingPathComponent("out/vocab/items.parquet")
        let before = try Data(contentsOf: vocabulary)
        let pipeline = sandbox.appendingPathComponent("pipelines/frozen-rerun.yaml")
        let run = try EndToEnd.tally(["run", pipeline.path], in: sandbox)
        try #require(run.status == 0, "tally run frozen-rerun.yaml failed:\n\(run.transcript)")
        #expect(try Data(contentsOf: vocabulary) == before, "a frozen vocabulary was rewritten")
        try EndToEnd.check(pipeline, sandbox.appendingPathComponent("out/frozen-rerun"))
    }

    private func runDailyItems(in sandbox: URL, checked: Bool) throws {
        let pipeline = sandbox.appendingPathComponent("pipelines/daily-items.yaml")
        let vocabulary = sandbox.appendingPathComponent("out/vocab/items.parquet")
        for date in ["2024-11-19", "2024-11-20"] {
            var before = "none"
            if FileManager.default.fileExists(atPath: vocabulary.path) {
                let copy = sandbox.appendingPathComponent("items-before-\(date).parquet")
                try FileManager.default.copyItem(at: vocabulary, to: copy)
                before = copy.path
            }
            let run = try EndToEnd.tally(["run", pipeline.path, "--var", "date=\(date)"], in: sandbox)
            try #require(run.status == 0, "tally run daily-items.yaml --var date=\(date) failed:\n\(run.transcript)")
            if checked {
                try EndToEnd.check(pipeline, sandbox.appendingPathComponent("out/daily-items/\(date)"),
                                   ["--var", "date=\(date)", "--vocab-before", "item=\(before)"])
            }
        }
    }
}
