import ArgumentParser
import Foundation
import Tally

extension EventLog.Format: ExpressibleByArgument {}

/// `tally run PIPELINE`: reads the inputs and publishes the outputs; with `--shard`, one shard's
/// map of a sharded run.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline: read the logs, count, reduce the loss and write the outputs.",
        discussion: """
            With --shard I/N --partials DIR, only the files of shard I (see tally plan) are read and \
            their partials written into DIR, for tally reduce. Adding --gradients-from OUTPUT writes \
            the shard's per-row gradients instead, once tally reduce has published OUTPUT.
            """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions
    @OptionGroup var options: RunOptions

    @Option(help: ArgumentHelp("The state cache folder (overrides run.state_dir): files already counted with the same settings are not read again.", valueName: "DIR"))
    var state: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Map one shard of a sharded run: I from 0 to N-1.", valueName: "I/N"))
    var shard: String?

    @Option(help: ArgumentHelp("With --shard: the folder the shards write their partials into (shared by every shard and tally reduce).", valueName: "DIR"))
    var partials: String?

    @Option(help: ArgumentHelp("With --shard: write the shard's per-row gradients, once tally reduce has published the pipeline's output.dir (give that folder).", valueName: "OUTPUT"))
    var gradientsFrom: String?

    func validate() throws {
        if let shard {
            do { _ = try Shard(parsing: shard) } catch let error as TallyError { throw ValidationError(error.message) }
            if partials == nil { throw ValidationError("--shard needs --partials DIR, the folder of the shards' partials") }
            if state != nil { throw ValidationError("--state is for one-machine runs; a shard keeps its partials in --partials") }
        } else if partials != nil || gradientsFrom != nil {
            throw ValidationError("--partials and --gradients-from go with --shard I/N; to fold the partials, run tally reduce")
        }
    }

    func run() throws {
        let variables = try variables.variables()
        try options.running { progress in
            let pipeline = try Pipeline.load(path: pipeline, variables: variables)
            var runOptions = PipelineRun.Options(workers: options.workers, progress: progress)
            runOptions.stateDir = state.map(absolute)
            let run = PipelineRun(pipeline: pipeline, options: runOptions)
            guard let shard = try shard.map(Shard.init(parsing:)), let partials = partials.map(absolute) else {
                return try run.run().line
            }
            if let output = gradientsFrom {
                let report = try run.mapGradients(shard: shard, partials: partials, output: absolute(output))
                return "shard \(shard): \(report.files) file(s), the gradients of \(report.rowsKept) rows in \(InputFiles.display(partials))"
            }
            let report = try run.map(shard: shard, partials: partials)
            let done = report.reused > 0 ? " (\(report.reused) already done)" : ""
            return "shard \(shard): \(report.files) file(s)\(done), \(report.rowsKept) of \(report.rowsRead) rows kept "
                + "(\(report.badRows) bad); partials in \(InputFiles.display(partials))"
        }
    }
}

/// `tally reduce PIPELINE --partials DIR`: the reduce of a sharded run.
struct ReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reduce",
        abstract: "Fold the partials of every shard and write the outputs, exactly as tally run does.",
        discussion: """
            Every input file must have its partial in DIR, made with the pipeline's counting \
            settings (exit 65 names those that do not). With gradients.per_event, event_grads.parquet \
            is written once the gradient maps (tally run --shard I/N --gradients-from) have run: \
            reduce, run the gradient maps, reduce again.
            """)

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @OptionGroup var variables: VariableOptions
    @OptionGroup var options: RunOptions

    @Option(help: ArgumentHelp("The folder the shards wrote their partials into.", valueName: "DIR"))
    var partials: String

    func run() throws {
        let variables = try variables.variables()
        try options.running { progress in
            let pipeline = try Pipeline.load(path: pipeline, variables: variables)
            let run = PipelineRun(pipeline: pipeline, options: PipelineRun.Options(workers: options.workers, progress: progress))
            return try run.reduce(partials: absolute(partials)).line
        }
    }
}

/// The options of every command that runs a pipeline.
struct RunOptions: ParsableArguments {
    @Option(help: "Worker queues for parsing and counting (default: the pipeline's run.workers, else the number of cores). Outputs are identical for any value.")
    var workers: Int?

    @Flag(help: "No progress line and no closing summary line on standard error; warnings and errors still print.")
    var quiet = false

    @Option(help: "text, or json: one JSON object per line on standard error (start, each file, bad rows, finish with the exit code), for schedulers.")
    var logFormat: EventLog.Format = .text

    func validate() throws {
        if let workers, !(1...Pipeline.Run.maximumWorkers).contains(workers) {
            throw ValidationError("--workers must be from 1 to \(Pipeline.Run.maximumWorkers)")
        }
    }

    /// Runs `body` (given whether to show progress) with the log set up and signals handled;
    /// reports the closing line it returns, or its error.
    func running(_ body: (Bool) throws -> String) throws {
        EventLog.shared.format = logFormat
        Interruption.install()
        try reportingErrors {
            let summary = try body(!quiet)
            if logFormat == .json {
                EventLog.shared.finish(exitCode: 0, error: nil, summary: summary)
            } else if !quiet {
                EventLog.write(summary + "\n")
            }
        }
    }
}

extension PipelineRun.Report {
    /// The closing line of a run.
    var line: String {
        "\(rowsKept) of \(rowsRead) rows kept (\(badRows) bad); loss \(loss); wrote \(InputFiles.display(outputFolder))"
    }
}

/// `path` made absolute against the current folder.
func absolute(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
}
