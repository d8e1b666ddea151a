import ArgumentParser
import Foundation
import Tally

/// `tally`: turns zstd-compressed CSV interaction logs into counts, losses and gradients.
@main
struct TallyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Counts, losses and gradients from zstd-compressed CSV interaction logs, as Parquet.",
        discussion: """
            Exit codes: 0 success, 1 gradcheck above tolerance, 64 usage, 65 bad input data \
            (or a missing partial in reduce), 66 no input (no file matched, a missing table, \
            partials folder or model), 73 cannot create output, 74 I/O error, 78 invalid \
            pipeline file, 130/143 interrupted.
            """,
        version: tallyVersion,
        subcommands: [RunCommand.self, ValidateCommand.self, InspectCommand.self, GradcheckCommand.self,
                      PlanCommand.self, ReduceCommand.self]
    )

    static func main() {
        Allocator.useOneArena()
        main(nil)
    }

    /// `tally` alone is a usage error (64), as a missing argument is: a script that lost its
    /// subcommand must not pass for a success.
    func run() throws {
        throw ValidationError("a command is required: run, validate, inspect, gradcheck, plan or reduce")
    }
}

/// Runs `body`; a `TallyError` is reported (as text, or as the JSON `finish` event) and becomes
/// its exit code.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as TallyError {
        EventLog.shared.finish(exitCode: error.kind.exitCode, error: error, summary: nil)
        throw ExitCode(error.kind.exitCode)
    }
}

/// `--var NAME=VALUE` options, shared by every command that reads a pipeline.
struct VariableOptions: ParsableArguments {
    @Option(name: .customLong("var"), help: ArgumentHelp("Sets ${NAME} in the pipeline file.", valueName: "NAME=VALUE"))
    var assignments: [String] = []

    /// Checked while parsing, so that a bad `--var` shows the command's usage.
    func validate() throws { _ = try variables() }

    func variables() throws -> [String: String] {
        var variables: [String: String] = [:]
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                throw ValidationError("--var takes NAME=VALUE, got '\(assignment)'")
            }
            let name = String(assignment[..<equals])
            guard Pipeline.isVariableName(name) else {
                throw ValidationError("--var \(name)=…: a name is a letter or '_', then letters, digits and '_'")
            }
            guard variables.updateValue(String(assignment[assignment.index(after: equals)...]), forKey: name) == nil else {
                throw ValidationError("--var \(name) is given twice")
            }
        }
        return variables
    }
}
