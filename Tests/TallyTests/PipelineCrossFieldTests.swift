import Testing
@testable import Tally

/// Each rule between fields (DESIGN §2, §3) gives one located error, never a silent choice.
@Suite struct PipelineCrossFieldTests {
    typealias F = PipelineFixtures

    static let rules: [(String, String)] = [
        // Roles the count uses need their columns.
        (F.pipeline(extra: "count: {key: [user]}"),
         "p.yaml:8:14: error: [pipeline] count.key [user] uses user, but input.columns has no user column"),
        (F.pipeline(extra: "count: {key: [item, time], time_bins: {width: 1d}}"),
         "p.yaml:8:14: error: [pipeline] count.key [item, time] uses time, but input.columns has no time column"),
        (F.pipeline(extra: "count: {decay: {half_life: 7d}}"),
         "p.yaml:8:9: error: [pipeline] count.decay needs input.columns.time (the age of each row)"),
        (F.pipeline(extra: "count: {weight: {events: {click: 3}}}"),
         "p.yaml:8:18: error: [pipeline] count.weight.events needs input.columns.event"),
        (F.pipeline(extra: "count: {embedding: {dim: 8}}"),
         "p.yaml:8:9: error: [pipeline] count.embedding groups by user, but input.columns has no user column"),
        (F.pipeline(extra: "vocabulary: {user: {}}"),
         "p.yaml:8:14: error: [pipeline] vocabulary.user needs input.columns.user"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}, time_format: iso8601}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:43: error: [pipeline] input.time_format is given, but input.columns has no time column"),

        // Time bins exactly when the key has time; smoothing only on single-role keys.
        (F.pipeline(columns: "{item: i, time: t}", extra: "count: {key: [item, time]}"),
         "p.yaml:8:14: error: [pipeline] count.key [item, time] needs count.time_bins"),
        (F.pipeline(columns: "{item: i, time: t}", extra: "count: {time_bins: {width: 1d}}"),
         "p.yaml:8:9: error: [pipeline] count.time_bins applies only to the key [item, time], not [item]"),
        (F.pipeline(columns: "{item: i, user: u}", extra: "count: {key: [user, item], smoothing: {}}"),
         "p.yaml:8:28: error: [pipeline] count.smoothing applies only to the keys [item] and [user], not [user, item]"),
        (F.pipeline(columns: "{item: i, time: t}",
                    extra: "count: {key: [item, time], time_bins: {width: 1d}, smoothing: {temperature: 2}}"),
         "p.yaml:8:52: error: [pipeline] count.smoothing applies only to the keys [item] and [user], not [item, time]"),

        // Weights: one source.
        (F.pipeline(extra: "count: {weight: {column: w, events: {a: 1}}}"),
         "p.yaml:8:9: error: [pipeline] count.weight: give either column or events, not both"),
        (F.pipeline(extra: "count: {weight: {column: w, default: 2}}"),
         "p.yaml:8:38: error: [pipeline] count.weight.default: 'default' applies only with 'events'"),

        // Embedding bags.
        (F.pipeline(columns: "{item: i, user: u}", extra: "count: {key: [user], embedding: {dim: 8}}"),
         "p.yaml:8:22: error: [pipeline] count.embedding needs the key [item] or [user, item] "
            + "(bags sum item embeddings), not [user]"),
        (F.pipeline(columns: "{item: i, user: u}", loss: "{kind: kl}", extra: "count: {embedding: {dim: 8}}"),
         "p.yaml:6:14: error: [pipeline] loss.kind kl cannot be used with count.embedding (expected sum or mse)"),
        (F.pipeline(columns: "{item: i, user: u}", extra: "count: {embedding: {dim: 8}, smoothing: {}}"),
         "p.yaml:8:30: error: [pipeline] count.smoothing cannot be combined with count.embedding "
            + "(bags sum the rows' own weights)"),
        (F.pipeline(columns: "{item: i, user: u}", loss: "{kind: mse, target: t.csv, target_column: y}",
                    extra: "count: {embedding: {dim: 8}}"),
         "p.yaml:6:34: error: [pipeline] loss.target_column does not apply with count.embedding "
            + "(the target's columns are e0..e{dim-1})"),

        // Loss targets.
        (F.pipeline(loss: "{kind: sum, target: t.csv}"),
         "p.yaml:6:19: error: [pipeline] loss.target is not allowed with kind sum, which has no target"),
        (F.pipeline(loss: "{kind: sum, target_column: y}"),
         "p.yaml:6:19: error: [pipeline] loss.target_column is not allowed with kind sum, which has no target"),
        (F.pipeline(loss: "{kind: mse, target_column: y}"),
         "p.yaml:6:19: error: [pipeline] loss.target_column is given without loss.target"),

        // Only parameters that exist can be differentiated.
        (F.pipeline(extra: "gradients: {parameters: [decay]}"),
         "p.yaml:8:26: error: [pipeline] gradients.parameters: 'decay' needs count.decay"),
        (F.pipeline(extra: "gradients: {parameters: [temperature]}"),
         "p.yaml:8:26: error: [pipeline] gradients.parameters: 'temperature' needs count.smoothing"),
        (F.pipeline(extra: "gradients: {parameters: [bandwidth]}"),
         "p.yaml:8:26: error: [pipeline] gradients.parameters: 'bandwidth' needs count.time_bins"),
        (F.pipeline(columns: "{item: i, time: t}",
                    extra: "count: {key: [item, time], time_bins: {width: 1d}}\ngradients: {parameters: [bandwidth]}"),
         "p.yaml:9:26: error: [pipeline] gradients.parameters: 'bandwidth' needs a time_bins kernel other than hard, "
            + "which has no bandwidth"),
        (F.pipeline(columns: "{item: i, time: t}",
                    extra: "count: {decay: {half_life: 1d}}\ngradients: {parameters: [decay, decay]}"),
         "p.yaml:9:33: error: [pipeline] gradients.parameters[1]: 'decay' is listed twice"),
        (F.pipeline(extra: "gradients: {embedding_table: true}"),
         "p.yaml:8:13: error: [pipeline] gradients.embedding_table needs count.embedding"),

        // Options that need another.
        (F.pipeline(output: "{dir: out, compression: none, zstd_level: 5}"),
         "p.yaml:7:39: error: [pipeline] output.zstd_level applies only with compression zstd"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}, bad_rows: {max: 5}}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:59: error: [pipeline] input.bad_rows.max: must be 0 with policy fail, which stops at the first "
            + "bad row (use skip or quarantine to allow some)"),
        (F.pipeline(extra: "vocabulary: {item: {mode: frozen}}"),
         "p.yaml:8:27: error: [pipeline] vocabulary.item.mode: mode frozen needs a path "
            + "(a frozen vocabulary is read, never built)"),
    ]

    @Test(arguments: rules)
    func eachBrokenRuleIsOneLocatedError(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    /// Bandwidth bounds: > 0.5 for triangular and epanechnikov, > 0.125 for gaussian, > 0 for hard.
    @Test(arguments: [
        ("triangular", "0.5", "0.5"), ("epanechnikov", "0.5", "0.5"), ("gaussian", "0.125", "0.125"),
        ("gaussian", "0.1", "0.125"),
    ])
    func bandwidthsAtOrBelowTheKernelsBoundAreErrors(kernel: String, bandwidth: String, bound: String) {
        let yaml = F.pipeline(columns: "{item: i, time: t}",
                              extra: "count:\n  key: [item, time]\n  time_bins: {width: 1d, kernel: \(kernel), bandwidth: \(bandwidth)}")
        #expect(F.problems(yaml) == [
            "p.yaml:10:\(47 + kernel.count): error: [pipeline] count.time_bins.bandwidth: must be greater than "
                + "\(bound) for the \(kernel) kernel, found \(bandwidth)",
        ])
    }

    @Test(arguments: [("triangular", "0.51"), ("epanechnikov", "2"), ("gaussian", "0.13"), ("hard", "0.01"),
                      ("gaussian", "64"), ("hard", "1000")])
    func bandwidthsAboveTheBoundLoad(kernel: String, bandwidth: String) throws {
        let pipeline = try F.parse(F.pipeline(
            columns: "{item: i, time: t}",
            extra: "count:\n  key: [item, time]\n  time_bins: {width: 1d, kernel: \(kernel), bandwidth: \(bandwidth)}"))
        #expect(pipeline.count.timeBins?.bandwidth == Double(bandwidth))
    }

    /// A wider bandwidth would have each row add to thousands of bins (4 GB for one sample day).
    @Test(arguments: ["triangular", "gaussian"])
    func bandwidthsAbove64BinsAreErrors(kernel: String) {
        let yaml = F.pipeline(columns: "{item: i, time: t}",
                              extra: "count:\n  key: [item, time]\n  time_bins: {width: 1d, kernel: \(kernel), bandwidth: 1000}")
        #expect(F.problems(yaml) == [
            "p.yaml:10:\(47 + kernel.count): error: [pipeline] count.time_bins.bandwidth: must be at most 64 bins, found 1000 "
                + "(each row adds to every bin the kernel reaches; for wider smoothing, use wider bins)",
        ])
    }

    @Test func aBandwidthMustBePositiveEvenForTheHardKernel() {
        let yaml = F.pipeline(columns: "{item: i, time: t}",
                              extra: "count:\n  key: [item, time]\n  time_bins: {width: 1d, bandwidth: 0}")
        #expect(F.problems(yaml) == [
            "p.yaml:10:37: error: [pipeline] count.time_bins.bandwidth: must be greater than 0, found 0",
        ])
    }

    @Test func aRuleStaysQuietWhenItsInputWasAlreadyReported() {
        // The key is bad, so nothing is said about time bins or smoothing that depend on it.
        let yaml = F.pipeline(columns: "{item: i, time: t}",
                              extra: "count: {key: [item, tiem], time_bins: {width: 1d}, smoothing: {}}")
        #expect(F.problems(yaml) == [
            "p.yaml:8:14: error: [pipeline] count.key: expected one of [item], [user], [user, item], [item, time], "
                + "found [item, tiem]",
        ])
    }

    @Test func anUnsetVariableIsReportedAndTheRestIsStillChecked() {
        let yaml = F.pipeline(output: "{dir: \"out/${date}\"}",
                              extra: "count: {key: [user]}\ngradients: {parameters: [decay]}")
        #expect(F.problems(yaml) == [
            "p.yaml:7:15: error: [pipeline] output.dir: unset variable 'date' (give it with --var date=VALUE)",
            "p.yaml:8:14: error: [pipeline] count.key [user] uses user, but input.columns has no user column",
            "p.yaml:9:26: error: [pipeline] gradients.parameters: 'decay' needs count.decay",
        ])
    }
}
