import ArgumentParser
import Foundation
import Tally

/// `tally gradcheck PIPELINE`: analytic gradients against central finite differences.
struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Compare every analytic gradient with central finite differences on the first rows of the input.",
        discussion: "Exits 1 when a relative error exceeds the tolerance. Nothing is written.")

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions

    @Option(help: "How many rows of the input to use.")
    var rows = 1000

    @Option(help: "The largest relative error allowed.")
    var tolerance = 1e-6

    func validate() throws {
        if rows < 1 { throw ValidationError("--rows must be at least 1") }
        if !(tolerance > 0) { throw ValidationError("--tolerance must be positive") }
    }

    func run() throws {
        let variables = try variables.variables()
        var passed = true
        try reportingErrors {
            let pipeline = try Pipeline.load(path: pipeline, variables: variables)
            let report = try GradientCheck(pipeline: pipeline, rows: rows, tolerance: tolerance).run()
            print("gradcheck \(self.pipeline): \(report.rowsRead) rows, loss \(report.loss)")
            let width = max(20, report.lines.map(\.name.count).max() ?? 0)
            print("  " + "parameter".padding(toLength: width, withPad: " ", startingAt: 0) + "  checked  largest relative error")
            for line in report.lines {
                let mark = line.largestError <= tolerance ? "" : "  > \(tolerance)"
                print("  " + line.name.padding(toLength: width, withPad: " ", startingAt: 0)
                      + "  " + String(line.checked).padding(toLength: 7, withPad: " ", startingAt: 0)
                      + "  " + String(format: "%.3e", line.largestError) + mark)
            }
            print(report.passed ? "ok: every error is at most \(tolerance)" : "FAILED: errors above \(tolerance)")
            passed = report.passed
        }
        if !passed { throw ExitCode(1) }
    }
}
