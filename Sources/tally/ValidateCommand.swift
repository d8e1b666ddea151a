import ArgumentParser
import Foundation
import Tally

/// `tally validate PIPELINE`: checks a pipeline file without reading the input.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check a pipeline file (keys, types, variables, combinations) without reading the input.")

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions

    func run() throws {
        let errors = Pipeline.validate(path: pipeline, variables: try variables.variables())
        guard let first = errors.first else {
            print("\(pipeline): ok")
            return
        }
        for error in errors { EventLog.write("\(error)\n") }
        throw ExitCode(first.kind.exitCode)
    }
}
