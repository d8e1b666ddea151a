import Foundation
import Testing

/// Logs from `tools/gen_interactions.py` (and files of awkward CSV), one generated pipeline per
/// case: every key shape × the five losses × target tables as Parquet, CSV and .csv.zst ×
/// vocabulary options, plus bad rows, decay and smoothing with their scalar gradients, and per-row
/// gradients.
/// `crosscheck.py` writes each pipeline, runs tally and checks the outputs with `check_run.py`.
///
/// Cases run in families, one Python process each (its imports cost about a second); a failure
/// names the case.
@Suite struct GeneratedCrossCheckTests {
    static let families: KeyValuePairs<String, [String]> = [
        "item keys": ["item-sum", "item-mse-parquet-target", "item-poisson-csv-target-min-count",
                      "item-multinomial-zst-target-max-size", "item-kl-parquet-target-first-seen-drop",
                      "item-events-where-tsv-no-header"],
        "user keys": ["user-sum-events", "user-multinomial-max-size-drop", "user-poisson-parquet-target-where",
                      "user-kl-first-seen"],
        "user-item keys": ["pair-sum", "pair-mse-csv-target", "pair-multinomial-parquet-target",
                           "pair-kl-max-size-drop", "pair-poisson-zst-target-where"],
        "awkward CSV and bad rows": ["messy-skip", "messy-quarantine-pairs", "quoted-multiframe-workers",
                                     "bad-rows-in-every-batch-workers", "filter-before-validation"],
        "quote errors": ["quote-error-quarantine"],
        "edge cases": ["unicode-ties-kl-zero-weight", "unicode-events-first-seen-csv-target",
                       "where-on-columns-without-roles", "uncompressed-small-row-groups", "everything-filtered-out",
                       "columns-reordered-across-files", "no-header-ragged-records", "messy-quoted-target-ids"],
        "decay and smoothing": ["item-decay-multinomial-parquet-target", "user-decay-instant-poisson",
                                "pair-decay-sum", "item-smoothing-kl", "user-smoothing-decay-mse-csv-target"],
        "per-row gradients": ["item-per-event-multinomial-target", "pair-per-event-decay-bucket",
                              "user-per-event-smoothing-mse", "messy-per-event-skip"],
        "persistent vocabularies": ["frozen-vocabulary-from-pyarrow", "extend-vocabulary-from-pyarrow",
                                    "vocab-extend-twice", "vocab-extend-then-frozen-pairs"],
    ]

    @Test func everyCaseOfTheScriptIsInAFamily() throws {
        let listed = try EndToEnd.run(try EndToEnd.python(), [EndToEnd.crossCheck, "--list"])
        try #require(listed.status == 0, "\(listed.transcript)")
        let cases = Self.families.flatMap(\.value)
        #expect(Set(listed.stdout.split(separator: "\n").map(String.init)) == Set(cases))
        #expect(Set(cases).count == cases.count, "a case is in two families")
    }

    @Test(arguments: families.map(\.key))
    func generatedPipelinesMatchTheIndependentCheck(_ family: String) throws {
        let cases = try #require(Self.families.first { $0.key == family }?.value)
        let work = try EndToEnd.temporaryFolder("crosscheck")
        defer { EndToEnd.cleanUp(work) }
        let result = try EndToEnd.run(try EndToEnd.python(), [
            EndToEnd.crossCheck, "--tally", TallyBinary.url.path, "--work", work.path,
        ] + cases.flatMap { ["--case", $0] })
        #expect(result.status == 0, "\(family):\n\(result.transcript)")
    }
}
