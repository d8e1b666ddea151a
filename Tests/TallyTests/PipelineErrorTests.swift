import Testing
import Yams
@testable import Tally

/// Golden text, with line and column, for each family of mistakes in a single field.
@Suite struct PipelineErrorTests {
    typealias F = PipelineFixtures

    static let unknownKeys: [(String, [String])] = [
        (F.minimal + "colour: red", [
            "p.yaml:8:1: error: [pipeline] unknown key 'colour' (expected one of: version, name, description, "
                + "input, vocabulary, count, loss, gradients, output, run)",
        ]),
        (F.minimal + "count:\n  decay: {half_life: 7d, halflife: 3d}", [
            "p.yaml:9:26: error: [pipeline] unknown key 'halflife' in count.decay (expected one of: half_life, reference)",
        ]),
        (F.minimal + "vocabulary:\n  time: {}", [
            "p.yaml:9:3: error: [pipeline] unknown key 'time' in vocabulary (expected one of: user, item)",
        ]),
        ("version: 1\nname: x\ninput:\n  paths: a.csv\n  colums: {item: id}\nloss: {kind: sum}\noutput: {dir: out}", [
            "p.yaml:3:1: error: [pipeline] missing required key 'columns' in input",
            "p.yaml:5:3: error: [pipeline] unknown key 'colums' in input (expected one of: paths, header, delimiter, "
                + "columns, time_format, where, bad_rows, max_field_bytes)",
        ]),
    ]

    @Test(arguments: unknownKeys)
    func unknownKeysAreErrorsListingTheExpectedKeys(yaml: String, expected: [String]) {
        #expect(F.problems(yaml) == expected)
    }

    static let wrongTypes: [(String, String)] = [
        (F.minimal + "count:\n  smoothing: {temperature: abc}",
         "p.yaml:9:28: error: [pipeline] count.smoothing.temperature: expected a number, found 'abc'"),
        (F.minimal + "count:\n  key: item",
         "p.yaml:9:8: error: [pipeline] count.key: expected a list, found 'item'"),
        (F.minimal + "gradients: {per_event: yes}",
         "p.yaml:8:24: error: [pipeline] gradients.per_event: expected true or false, found 'yes'"),
        (F.minimal + "run: {workers: many}",
         "p.yaml:8:16: error: [pipeline] run.workers: expected 'auto' or a number of workers from 1 to 256, found 'many'"),
        (F.minimal + "run: {workers: 0}",
         "p.yaml:8:16: error: [pipeline] run.workers: expected 'auto' or a number of workers from 1 to 256, found '0'"),
        (F.minimal + "run: {workers: 1000000000}",
         "p.yaml:8:16: error: [pipeline] run.workers: expected 'auto' or a number of workers from 1 to 256, found '1000000000'"),
        (F.minimal + "vocabulary:\n  item: {min_count: 1.5}",
         "p.yaml:9:21: error: [pipeline] vocabulary.item.min_count: expected an integer, found '1.5'"),
        (F.minimal + "vocabulary:\n  item: {min_count: 0}",
         "p.yaml:9:21: error: [pipeline] vocabulary.item.min_count: must be at least 1, found 0"),
        (F.minimal + "count: [item]",
         "p.yaml:8:8: error: [pipeline] count: expected a mapping, found a list"),
        (F.minimal + "description: {a: 1}",
         "p.yaml:8:14: error: [pipeline] description: expected a string, found a mapping"),
        (F.pipeline(output: "{dir: out, zstd_level: 23}"),
         "p.yaml:7:32: error: [pipeline] output.zstd_level: must be between 1 and 22, found 23"),
        (F.pipeline(output: "{dir: [a, b]}"),
         "p.yaml:7:15: error: [pipeline] output.dir: expected a path, found a list"),
        (F.pipeline(extra: "count: {smoothing: {temperature: -1}}"),
         "p.yaml:8:34: error: [pipeline] count.smoothing.temperature: must be greater than 0, found -1"),
        (F.pipeline(columns: "{item: i, user: u}", extra: "count: {embedding: {dim: 0}}"),
         "p.yaml:8:26: error: [pipeline] count.embedding.dim: must be at least 1, found 0"),
        (F.pipeline(columns: "{item: i, user: u}", extra: "count: {embedding: {dim: 2, seed: -1}}"),
         "p.yaml:8:35: error: [pipeline] count.embedding.seed: expected an integer between 0 and "
            + "18446744073709551615, found '-1'"),
        (F.pipeline(columns: "{item: 3}"),
         "p.yaml:5:19: error: [pipeline] input.columns.item: expected a header name because input.header is true, "
            + "found the number 3 (quote it if the header names a column \"3\")"),
        ("version: 1\nname: x\ninput: {paths: a.csv, header: false, columns: {item: item_id}}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:54: error: [pipeline] input.columns.item: expected a 0-based column number because input.header "
            + "is false, found 'item_id'"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}, where: {3: [a]}}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:51: error: [pipeline] input.where.3: expected a header name because input.header is true, "
            + "found the number 3 (quote it if the header names a column \"3\")"),
        (F.pipeline(columns: "{item: id, user: id}"),
         "p.yaml:5:29: error: [pipeline] input.columns.user: names the same column as input.columns.item"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}, delimiter: '\"'}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:54: error: [pipeline] input.delimiter: the delimiter cannot be a quote or a line end"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}, where: {event: []}}\n"
            + "loss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:58: error: [pipeline] input.where.event: expected at least one value, found an empty list "
            + "(no row would be kept)"),
        ("version: 1\nname: x\ninput: {paths: [], columns: {item: i}}\nloss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:3:16: error: [pipeline] input.paths: expected at least one path, found an empty list"),
    ]

    @Test(arguments: wrongTypes)
    func wrongTypesAndRangesNameTheFieldAndTheValueFound(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    static let missingKeys: [(String, String)] = [
        ("version: 1\ninput: {paths: a.csv, columns: {item: i}}\nloss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:1:1: error: [pipeline] missing required key 'name'"),
        ("name: x\ninput: {paths: a.csv, columns: {item: i}}\nloss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:1:1: error: [pipeline] missing required key 'version'"),
        (F.pipeline(loss: "{target: t.csv}"),
         "p.yaml:6:1: error: [pipeline] missing required key 'kind' in loss"),
        (F.pipeline(columns: "{user: u}"),
         "p.yaml:5:3: error: [pipeline] missing required key 'item' in input.columns"),
        (F.pipeline(output: "{compression: none}"),
         "p.yaml:7:1: error: [pipeline] missing required key 'dir' in output"),
        (F.pipeline(extra: "count: {decay: {reference: end}}").replacingOccurrences(of: "{item: i}", with: "{item: i, time: t}"),
         "p.yaml:8:9: error: [pipeline] missing required key 'half_life' in count.decay"),
        ("version: 1\nname:\ninput: {paths: a.csv, columns: {item: i}}\nloss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:2:1: error: [pipeline] name: expected a value, found nothing"),
        ("version: 1\nname: x\ninput: {paths: a.csv, columns: {item: i}}\noutput: {dir: out}",
         "p.yaml:1:1: error: [pipeline] missing required key 'loss'"),
    ]

    @Test(arguments: missingKeys)
    func missingRequiredKeysPointAtTheirSection(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    static let badEnums: [(String, String)] = [
        (F.pipeline(columns: "{item: i, time: t}", extra: "count:\n  key: [item, time]\n  time_bins: {width: 1d, kernel: box}"),
         "p.yaml:10:34: error: [pipeline] count.time_bins.kernel: unknown value 'box' "
            + "(expected one of: hard, triangular, epanechnikov, gaussian)"),
        (F.minimal + "vocabulary:\n  item: {oov: skip}",
         "p.yaml:9:15: error: [pipeline] vocabulary.item.oov: unknown value 'skip' (expected one of: bucket, drop, fail)"),
        (F.minimal + "count:\n  key: [item, user]",
         "p.yaml:9:8: error: [pipeline] count.key: expected one of [item], [user], [user, item], [item, time], "
            + "found [item, user]"),
        (F.minimal + "gradients: {parameters: [lr]}",
         "p.yaml:8:26: error: [pipeline] gradients.parameters[0]: unknown value 'lr' "
            + "(expected one of: decay, temperature, bandwidth)"),
        (F.pipeline(output: "{dir: out, compression: gzip}"),
         "p.yaml:7:33: error: [pipeline] output.compression: unknown value 'gzip' (expected one of: zstd, none)"),
        (F.pipeline(extra: "vocabulary: {item: {order: alphabetical}}"),
         "p.yaml:8:28: error: [pipeline] vocabulary.item.order: unknown value 'alphabetical' "
            + "(expected one of: frequency, first_seen)"),
    ]

    @Test(arguments: badEnums)
    func badEnumValuesListTheChoices(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    static let badTimes: [(String, String)] = [
        (F.minimal + "count:\n  decay: {half_life: 7}",
         "p.yaml:9:22: error: [pipeline] count.decay.half_life: expected a duration such as 7d, 36h, 90m or 30s, found '7'"),
        (F.minimal + "count:\n  decay: {half_life: 7 days}",
         "p.yaml:9:22: error: [pipeline] count.decay.half_life: expected a duration such as 7d, 36h, 90m or 30s, "
            + "found '7 days'"),
        (F.minimal + "count:\n  decay: {half_life: 1w}",
         "p.yaml:9:22: error: [pipeline] count.decay.half_life: expected a duration such as 7d, 36h, 90m or 30s, found '1w'"),
        (F.minimal + "count:\n  decay: {half_life: 0d}",
         "p.yaml:9:22: error: [pipeline] count.decay.half_life: must be greater than 0, found '0d'"),
        (F.minimal + "count:\n  decay: {half_life: 7d, reference: yesterday}",
         "p.yaml:9:37: error: [pipeline] count.decay.reference: expected 'end' or an ISO-8601 instant such as "
            + "2026-01-01T00:00:00Z, found 'yesterday'"),
        (F.minimal + "count:\n  key: [item, time]\n  time_bins: {width: 1d, origin: \"2026-02-30T00:00:00Z\"}",
         "p.yaml:10:34: error: [pipeline] count.time_bins.origin: expected an ISO-8601 instant such as "
            + "2026-01-01T00:00:00Z, found '2026-02-30T00:00:00Z'"),
        (F.minimal + "count:\n  key: [item, time]\n  time_bins: {width: 1d, origin: \"2026-01-01T00:00:00\"}",
         "p.yaml:10:34: error: [pipeline] count.time_bins.origin: expected an ISO-8601 instant such as "
            + "2026-01-01T00:00:00Z, found '2026-01-01T00:00:00'"),
    ]

    @Test(arguments: badTimes)
    func badDurationsAndInstantsShowAnExample(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    static let badVariables: [(String, String)] = [
        (F.minimal + "description: run of ${date}",
         "p.yaml:8:14: error: [pipeline] description: unset variable 'date' (give it with --var date=VALUE)"),
        (F.minimal + "description: run of ${}",
         "p.yaml:8:14: error: [pipeline] description: '${}' is not a variable reference (names are letters, digits and '_')"),
        (F.minimal + "description: run of ${date",
         "p.yaml:8:14: error: [pipeline] description: unterminated '${' in 'run of ${date'"),
    ]

    @Test(arguments: badVariables)
    func unsetOrMalformedVariablesAreErrorsAtTheValue(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }

    @Test func aVariableCanStandForANumber() throws {
        let problems = F.problems(F.pipeline(output: "{dir: out, zstd_level: \"${level}\"}"), variables: ["level": "high"])
        #expect(problems == ["p.yaml:7:32: error: [pipeline] output.zstd_level: expected an integer, found 'high'"])
    }

    @Test(arguments: [
        ("version: 2\nname: x\nshiny: new", "p.yaml:1:10: error: [pipeline] version: unsupported version 2 (this tally reads version 1)"),
        ("version: one\nname: x\ninput: {paths: a.csv, columns: {item: i}}\nloss: {kind: sum}\noutput: {dir: out}",
         "p.yaml:1:10: error: [pipeline] version: expected an integer, found 'one'"),
    ])
    func onlyVersionOneIsRead(yaml: String, expected: String) {
        // A file of another version is not checked further: its keys would only produce noise.
        #expect(F.problems(yaml) == [expected])
    }

    @Test(arguments: ["item popularity", "pop/ular", "émile", "\"\""])
    func namesAreLettersDigitsAndPunctuation(name: String) {
        let yaml = F.pipeline().replacingOccurrences(of: "name: x", with: "name: \(name)")
        let shown = name == "\"\"" ? "" : name
        #expect(F.problems(yaml) == [
            "p.yaml:2:7: error: [pipeline] name: expected a name of letters, digits, '_', '.' and '-', found '\(shown)'",
        ])
    }

    @Test func yamlSyntaxErrorsKeepYamsLineAndColumn() throws {
        let yaml = "version: 1\nname: x\n  bad: indentation\n"
        var yamsMark: Mark?
        do {
            _ = try Yams.compose(yaml: yaml)
        } catch let YamlError.scanner(_, _, mark, _) {
            yamsMark = mark
        } catch let YamlError.parser(_, _, mark, _) {
            yamsMark = mark
        }
        let mark = try #require(yamsMark)
        let errors = Pipeline.validate(yaml: yaml, path: "p.yaml", folder: "/")
        #expect(errors.count == 1)
        #expect(errors.first?.location == InputLocation(path: "p.yaml", line: mark.line, column: mark.column))
        #expect(errors.first.map { "\($0)" }
                == "p.yaml:3:6: error: [pipeline] invalid YAML: mapping values are not allowed in this context")
        #expect(errors.first?.kind == .config)
    }

    @Test(arguments: [
        ("version: 1\nname: x\ninput: {paths: [a.csv}\n",
         "p.yaml:3:22: error: [pipeline] invalid YAML: while parsing a flow sequence at line 3, column 16: "
            + "did not find expected ',' or ']'"),
        ("version: 1\nname: x\nname: y\n",
         "p.yaml:3:1: error: [pipeline] duplicate key 'name' in a mapping (each key may appear once)"),
        ("version: 1\nname: x\ninput:\n  paths: [a.csv]\n  # a comment\n\n  paths: [b.csv]\n",
         "p.yaml:7:3: error: [pipeline] duplicate key 'paths' in a mapping (each key may appear once)"),
        // CRLF is one Character in Swift: lines split on it, and on a lone CR (a crash, once).
        ("version: 1\r\nname: x\r\ninput:\r\n  paths: [a.csv]\r\n  paths: [b.csv]\r\n",
         "p.yaml:5:3: error: [pipeline] duplicate key 'paths' in a mapping (each key may appear once)"),
        ("version: 1\rname: x\rinput:\r  paths: [a.csv]\r  paths: [b.csv]\r",
         "p.yaml:5:3: error: [pipeline] duplicate key 'paths' in a mapping (each key may appear once)"),
        ("version: 1\nname: x\ninput: {paths: [a.csv], paths: [b.csv]}\n",
         "p.yaml:3:9: error: [pipeline] duplicate key 'paths' in a mapping (each key may appear once)"),
        ("", "p.yaml:1:1: error: [pipeline] the pipeline file is empty"),
        // A byte-order mark is skipped: the error is where it would be without it.
        ("\u{FEFF}version: 1\nname: x\nname: y\n",
         "p.yaml:3:1: error: [pipeline] duplicate key 'name' in a mapping (each key may appear once)"),
        ("- version: 1\n", "p.yaml:1:1: error: [pipeline] expected a mapping at the top of the pipeline file, found a list"),
        ("version: 1\n---\nname: x\n",
         "p.yaml:2:1: error: [pipeline] invalid YAML: expected a single document in the stream at line 1, "
            + "column 1: but found another document"),
    ])
    func malformedDocumentsAreReportedWhereYamsFindsThem(yaml: String, expected: String) {
        #expect(F.problems(yaml) == [expected])
    }
}
