import ArgumentParser
import Foundation
import Tally

/// `tally plan PIPELINE --shards N`: which input files go to which shard.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Assign the input files to N shards, balanced by bytes (JSON).",
        discussion: """
            Every file goes to exactly one shard. The assignment depends only on the files' paths \
            and sizes, so every tally run --shard I/N computes the same one by itself; the plan \
            tells a scheduler how many shards there are and what each will read.
            """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions

    @Option(help: "The number of shards.")
    var shards: Int

    @Option(help: ArgumentHelp("Write the plan to this file instead of standard output.", valueName: "FILE"))
    var out: String?

    func run() throws {
        let variables = try variables.variables()
        try reportingErrors {
            let pipeline = try Pipeline.load(path: pipeline, variables: variables)
            let plan = try PipelineRun(pipeline: pipeline).plan(shards: shards)
            guard let out else {
                print(plan, terminator: "")
                return
            }
            do {
                try Data(plan.utf8).write(to: URL(fileURLWithPath: out), options: .atomic)
            } catch {
                throw TallyError(.cannotCreateOutput, stage: .plan, at: InputLocation(path: out), "cannot write the plan: \(error.localizedDescription)")
            }
        }
    }
}
