import Foundation
@testable import Tally

/// Fixtures and helpers shared by the pipeline loader's tests.
enum PipelineFixtures {
    /// `Tests/TallyTests/Fixtures/pipelines`, absolute.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/pipelines").path

    static func path(_ name: String) -> String { folder + "/" + name }

    /// The folder inline test pipelines pretend to live in.
    static let inlineFolder = "/work/project/pipelines"

    /// Every problem in `yaml`, as printed, when read as `p.yaml` from `inlineFolder`.
    static func problems(_ yaml: String, variables: [String: String] = [:]) -> [String] {
        Pipeline.validate(yaml: yaml, path: "p.yaml", folder: inlineFolder, variables: variables).map { "\($0)" }
    }

    static func parse(_ yaml: String, variables: [String: String] = [:]) throws -> Pipeline {
        try Pipeline.parse(yaml: yaml, path: "p.yaml", folder: inlineFolder, variables: variables)
    }

    /// A valid pipeline's top lines, for tests that add one section. Lines 1–7.
    static let minimal = """
        version: 1
        name: minimal
        input:
          paths: logs/*.csv
          columns: {item: item_id, user: user_id, time: ts, event: event}
        loss: {kind: multinomial_nll}
        output: {dir: out}

        """
}

extension PipelineFixtures {
    /// A pipeline whose `extra` lines start at line 8. Line 5 is `  columns: <columns>`, line 6
    /// `loss: <loss>`, line 7 `output: <output>`.
    static func pipeline(columns: String = "{item: i}", loss: String = "{kind: sum}",
                         output: String = "{dir: out}", extra: String = "") -> String {
        """
        version: 1
        name: x
        input:
          paths: a.csv
          columns: \(columns)
        loss: \(loss)
        output: \(output)
        \(extra)
        """
    }
}
