import ArgumentParser
import Foundation
import Tally

extension EventLog.Format: ExpressibleByArgument {}

/// `tally run PIPELINE`: reads the inputs and publishes the outputs.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline: read the logs, count, reduce the loss and write the outputs.")

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions

    @Option(help: "Worker queues for parsing and counting (default: the pipeline's run.workers, else the number of cores). Outputs are identical for any value.")
    var workers: Int?

    @Option(help: ArgumentHelp("The state cache folder (overrides run.state_dir): files already counted with the same settings are not read again.", valueName: "DIR"))
    var state: String?

    @Flag(help: "No progress line on standard error.")
    var quiet = false

    @Option(help: "text, or json: one JSON object per line on standard error (start, each file, bad rows, finish with the exit code), for schedulers.")
    var logFormat: EventLog.Format = .text

    func validate() throws {
        if let workers, workers < 1 { throw ValidationError("--workers must be at least 1") }
    }

    func run() throws {
        let variables = try variables.variables()
        EventLog.shared.format = logFormat
        Interruption.install()
        try reportingErrors {
            let pipeline = try Pipeline.load(path: pipeline, variables: variables)
            var options = PipelineRun.Options(workers: workers, progress: !quiet)
            options.stateDir = state.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            let report = try PipelineRun(pipeline: pipeline, options: options).run()
            let summary = "\(report.rowsKept) of \(report.rowsRead) rows kept (\(report.badRows) bad); loss \(report.loss); "
                + "wrote \(InputFiles.display(report.outputFolder))"
            if logFormat == .json {
                EventLog.shared.finish(exitCode: 0, error: nil, summary: summary)
            } else if !quiet {
                EventLog.write(summary + "\n")
            }
        }
    }
}
