import Foundation
import Testing

/// Issue #3, the differentiable counter, checked from the outside: the `tally` binary runs
/// pipelines that `Tests/interop/diff/gen_cases.py` writes (each mode alone and combined, edge
/// cases, identities), and `Tests/interop/diff/check_diff.py` compares every output with an
/// independent NumPy reference of DESIGN §3 (`reference.py`, itself checked against dense
/// one-hot versions and finite differences).
///
/// Python is `$TALLY_PYTHON` or `<package root>/.venv/bin/python` (made by `scripts/test`); a
/// missing interpreter fails the tests with a message rather than skipping them.
@Suite(.serialized) struct DifferentiableCountingTests {
    @Test func theReferenceProvesItself() throws {
        let result = try Diff.python("reference.py", ["--self-check"])
        #expect(result.status == 0, "reference.py --self-check failed:\n\(result.output)")
    }

    @Test func everyCaseRunsAndAgreesWithTheReference() throws {
        let fixture = try Diff.fixture.get()
        for run in fixture.runs {
            #expect(run.status == 0, "tally run \(run.name) exited \(run.status):\n\(run.stderr)")
        }
        let result = try Diff.python("check_diff.py", ["--cases", fixture.casesFile.path])
        #expect(result.status == 0, "check_diff.py found differences:\n\(result.output)")
    }

    @Test func identitiesHoldBetweenOutputs() throws {
        let fixture = try Diff.fixture.get()
        let result = try Diff.python("identities.py", [fixture.folder.path])
        #expect(result.status == 0, "identities.py:\n\(result.output)")
    }

    @Test(arguments: ["workers-smooth", "workers-bins", "workers-emb"])
    func outputsAreByteIdenticalForAnyWorkerCount(_ name: String) throws {
        let fixture = try Diff.fixture.get()
        let pipeline = try #require(fixture.cases.first { $0.name == name })
        var first: [String: Data]?
        for workers in [1, 2, 4] {
            let run = try TallyBinary.run(["run", pipeline.pipeline, "--workers", "\(workers)", "--quiet"])
            try #require(run.status == 0, "tally run \(name) --workers \(workers): \(run.stderr)")
            let files = try Diff.snapshot(URL(fileURLWithPath: pipeline.out))
            #expect(files.keys.contains("event_grads.parquet"))
            guard let reference = first else { first = files; continue }
            #expect(Set(files.keys) == Set(reference.keys), "\(name): files differ for --workers \(workers)")
            for (file, bytes) in reference.sorted(by: { $0.key < $1.key }) {
                #expect(files[file] == bytes, "\(name)/\(file) differs between --workers 1 and \(workers)")
            }
        }
    }

    @Test func gradcheckPassesOnGoodPipelinesAndFailsBelowItsOwnPrecision() throws {
        let fixture = try Diff.fixture.get()
        func path(_ name: String) throws -> String {
            try #require(fixture.cases.first { $0.name == name }).pipeline
        }
        // 200 rows keep each run to a second or two in a debug build.
        let expected = [
            ("smooth-item-multinomial", ["decay", "temperature", "target logits", "row weights"]),
            ("bins-triangular-decay-multinomial", ["decay", "bandwidth", "row weights"]),
            ("emb-mse-pair", ["decay", "row weights", "embedding entries"]),
        ]
        for (name, parameters) in expected {
            let run = try TallyBinary.run(["gradcheck", try path(name), "--rows", "200"])
            #expect(run.status == 0, "gradcheck \(name):\n\(run.stdout)\(run.stderr)")
            for parameter in parameters {
                #expect(run.stdout.contains(parameter), "gradcheck \(name) should report \(parameter):\n\(run.stdout)")
            }
        }
        let strict = try TallyBinary.run(["gradcheck", try path("decay-end-item-poisson"), "--rows", "200",
                                          "--tolerance", "1e-300"])
        #expect(strict.status == 1, "a tolerance no finite difference meets must exit 1, got \(strict.status):\n\(strict.stdout)")
    }

    @Test func theDocumentationExampleIsWhatTallyAndJAXCompute() throws {
        let result = try Diff.python("side_by_side.py", [
            "--tally", TallyBinary.url.path,
            "--doc", Diff.root.appendingPathComponent("docs/differentiable-counting.md").path,
        ])
        #expect(result.status == 0, "side_by_side.py:\n\(result.output)")
    }
}

/// The generated cases, written and run once per test process.
private enum Diff {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    struct Case: Decodable, Sendable {
        var name: String
        var group: String
        var pipeline: String
        var out: String
        var vars: [String: String]

        /// `--var NAME=VALUE` for each variable the pipeline uses.
        var variableArguments: [String] {
            vars.sorted { $0.key < $1.key }.flatMap { ["--var", "\($0.key)=\($0.value)"] }
        }
    }

    struct Run: Sendable {
        var name: String
        var status: Int32
        var stderr: String
    }

    struct Fixture: Sendable {
        var folder: URL
        var casesFile: URL
        var cases: [Case]
        var runs: [Run]
    }

    struct SetupError: Error, CustomStringConvertible {
        var description: String
    }

    static let fixture: Result<Fixture, SetupError> = {
        do {
            return .success(try makeFixture())
        } catch let error as SetupError {
            return .failure(error)
        } catch {
            return .failure(SetupError(description: "\(error)"))
        }
    }()

    private static func makeFixture() throws -> Fixture {
        // Inside .build, replaced on every run: the disk use stays bounded and the last run's
        // files are there to look at when a check fails.
        let folder = root.appendingPathComponent(".build/differentiable-cases")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let generated = try python("gen_cases.py", [folder.path])
        guard generated.status == 0 else {
            throw SetupError(description: "gen_cases.py failed:\n\(generated.output)")
        }
        let casesFile = folder.appendingPathComponent("cases.json")
        let cases = try JSONDecoder().decode([Case].self, from: Data(contentsOf: casesFile))
        var runs: [Run] = []
        for entry in cases {
            let result = try TallyBinary.run(["run", entry.pipeline, "--quiet"] + entry.variableArguments)
            runs.append(Run(name: entry.name, status: result.status, stderr: result.stderr))
        }
        return Fixture(folder: folder, casesFile: casesFile, cases: cases, runs: runs)
    }

    /// Runs `Tests/interop/diff/<script>` with the interop Python; returns its status and its
    /// combined output.
    static func python(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let result = try EndToEnd.run(try EndToEnd.python(),
                                      [root.appendingPathComponent("Tests/interop/diff/\(script)").path] + arguments)
        return (result.status, result.stdout + result.stderr)
    }

    /// Every file of an output folder; summary.json without its `seconds` (timings differ).
    static func snapshot(_ folder: URL) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            var data = try Data(contentsOf: folder.appendingPathComponent(name))
            if name == "summary.json", var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] {
                object["seconds"] = nil
                data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            }
            files[name] = data
        }
        return files
    }
}
