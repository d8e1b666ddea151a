import Foundation
import Testing

/// Logs from `tools/gen_interactions.py` (and files of awkward CSV), one generated pipeline per
/// case: every key shape × the five losses × target tables as Parquet, CSV and .csv.zst ×
/// vocabulary options, plus bad rows, decay and smoothing with their scalar gradients. `crosscheck.py` writes each pipeline, runs tally and checks the outputs.
@Suite struct GeneratedCrossCheckTests {
    static let cases = [
        "item-sum", "item-mse-parquet-target", "item-poisson-csv-target-min-count",
        "item-multinomial-zst-target-max-size", "item-kl-parquet-target-first-seen-drop",
        "item-events-where-tsv-no-header",
        "user-sum-events", "user-multinomial-max-size-drop", "user-poisson-parquet-target-where",
        "user-kl-first-seen",
        "pair-sum", "pair-mse-csv-target", "pair-multinomial-parquet-target", "pair-kl-max-size-drop",
        "pair-poisson-zst-target-where",
        "messy-skip", "messy-quarantine-pairs", "quote-error-quarantine", "quoted-multiframe-workers",
        "unicode-ties-kl-zero-weight", "unicode-events-first-seen-csv-target", "where-on-columns-without-roles",
        "uncompressed-small-row-groups", "filter-before-validation", "everything-filtered-out",
        "bad-rows-in-every-batch-workers",
        "item-decay-multinomial-parquet-target", "user-decay-instant-poisson", "pair-decay-sum",
        "item-smoothing-kl", "user-smoothing-decay-mse-csv-target",
        "columns-reordered-across-files", "no-header-ragged-records", "messy-quoted-target-ids",
        "frozen-vocabulary-from-pyarrow", "extend-vocabulary-from-pyarrow",
        "vocab-extend-twice", "vocab-extend-then-frozen-pairs",
    ]

    @Test func everyCaseOfTheScriptIsATest() throws {
        let listed = try EndToEnd.run(try EndToEnd.python(), [EndToEnd.crossCheck, "--list"])
        try #require(listed.status == 0, "\(listed.transcript)")
        #expect(listed.stdout.split(separator: "\n").map(String.init) == Self.cases)
    }

    @Test(arguments: cases)
    func aGeneratedPipelineMatchesTheIndependentCheck(_ name: String) throws {
        let work = try EndToEnd.temporaryFolder("crosscheck-\(name)")
        defer { EndToEnd.cleanUp(work) }
        let result = try EndToEnd.run(try EndToEnd.python(), [
            EndToEnd.crossCheck, "--tally", TallyBinary.url.path, "--case", name, "--work", work.path,
        ])
        if let issue = Self.knownIssues[name] {
            withKnownIssue(Comment(rawValue: issue)) {
                #expect(result.status == 0, "\(name):\n\(result.transcript)")
            }
        } else {
            #expect(result.status == 0, "\(name):\n\(result.transcript)")
        }
    }

    /// Engine discrepancies found by these checks, still open. A case here that starts passing
    /// fails as "known issue not recorded": then remove it from this table.
    static let knownIssues: [String: String] = [
        "quote-error-quarantine": """
            After a quote error (text after a closing quote) the reader stays in the record until \
            quotes balance again, so the following good rows are swallowed into the bad row's raw \
            bytes and never counted in rows.read (DESIGN §6: nothing is dropped without being counted).
            """,
    ]
}
