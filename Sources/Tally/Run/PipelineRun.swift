import Foundation
import Parquet

/// Runs a pipeline from its input files to its published output folder.
public struct PipelineRun {
    public struct Options: Sendable {
        /// Worker queues; nil = the pipeline's `run.workers`, else the number of active processors.
        public var workers: Int?
        /// Show the progress line on standard error when it is a terminal.
        public var progress = true
        /// Target size of a record batch in bytes (content-defined cuts; see `RecordFramer`).
        public var batchBytes = 1 << 20
        /// The state cache folder; nil = the pipeline's `run.state_dir`.
        public var stateDir: String?
        public init(workers: Int? = nil, progress: Bool = true) {
            self.workers = workers
            self.progress = progress
        }
    }

    /// What a finished run reports.
    public struct Report: Sendable {
        public var outputFolder: String
        public var rowsRead: Int
        public var rowsKept: Int
        public var badRows: Int
        public var loss: Double
    }

    public let pipeline: Pipeline
    public let options: Options

    public init(pipeline: Pipeline, options: Options = .init()) {
        self.pipeline = pipeline
        self.options = options
    }

    /// Runs the pipeline; on failure the previous output is untouched and nothing is left behind.
    public func run() throws -> Report {
        let started = Clock.now
        let inputs = try RunInputs(pipeline)
        let folder = try OutputFolder(path: pipeline.output.dir.value)
        var published = false
        defer { if !published { folder.discard() } }

        var outputs = Outputs(folder: folder, pipeline: pipeline)
        let ledger = try BadRowLedger(policy: pipeline.input.badRows, quarantinePath: folder.file("quarantine.parquet"),
                                      options: outputs.options)
        let workers = options.workers ?? pipeline.run.workers ?? ProcessInfo.processInfo.activeProcessorCount
        let timings = StageTimings()
        EventLog.shared.start(pipeline, files: inputs.files.count, workers: max(1, workers))
        var settings = Passes.Settings(workers: max(1, workers), batchBytes: options.batchBytes,
                                       progress: options.progress ? Progress.onTerminal(totalBytes: inputs.files.reduce(0) { $0 + $1.size }) : nil,
                                       timings: timings)
        defer { settings.progress?.finish() }
        let stateDir = options.stateDir ?? pipeline.run.stateDir?.value
        let cache = try stateDir.map {
            try StateCache(folder: $0, pipeline: pipeline, roles: inputs.roles, channels: Channels(pipeline).count)
        }
        let fold = try Passes.count(pipeline, inputs, ledger: ledger, settings, cached: cache?.lookup(inputs.files) ?? [:],
                                    finished: cache.map { cache in { cache.save($0, $1) } })
        try cache?.finish()
        cache?.prune(keeping: inputs.files)
        settings.progress = nil

        let reduction = try timings.measure(.reduce) {
            try Reducer.reduce(fold, pipeline: pipeline, target: inputs.target, embeddingFile: inputs.embeddingFile)
        }
        if pipeline.gradients.perEvent {
            // ∂L/∂v exists only now: a second pass gives every kept row its gradient.
            let sink = try EventGradientSink(path: folder.file("event_grads.parquet"), shape: reduction.shape,
                                             options: outputs.options)
            try Passes.gradients(pipeline, inputs, model: Reducer.rowGradients(reduction, fold: fold, pipeline: pipeline),
                                 sink: sink, settings)
            try sink.close()
            outputs.record("event_grads.parquet", rows: sink.rows)
        }
        try timings.measure(.write) {
            if let quarantined = try ledger.close() { outputs.record("quarantine.parquet", rows: quarantined) }
            try outputs.writeCounts(reduction)
            try outputs.writeVocabularies(reduction)
            try outputs.writeTargetGradient(reduction)
            try outputs.writeBags(reduction, embeddingGradient: pipeline.gradients.embeddingTable)
        }
        let summary = Summary(pipeline: pipeline, fold: fold, reduction: reduction, outputs: outputs.rows,
                              timings: timings, totalSeconds: Clock.seconds(since: started))
        try summary.write(to: folder.file("summary.json"))
        try writeBackVocabularies(reduction, options: outputs.options)
        try folder.publish()
        published = true
        return Report(outputFolder: pipeline.output.dir.value, rowsRead: fold.runStats.read, rowsKept: fold.runStats.kept,
                      badRows: fold.runStats.bad, loss: reduction.loss)
    }

    /// Saves each vocabulary with a `path` and mode `extend`, atomically (temporary file, rename).
    private func writeBackVocabularies(_ reduction: Reduction, options: ParquetWriterOptions) throws {
        for (role, entries) in reduction.vocabularies {
            guard let settings = pipeline.vocabulary[role], settings.mode == .extend, let path = settings.path?.value else { continue }
            let directory = (path as NSString).deletingLastPathComponent
            let temporary = Leftovers.temporaryPath(for: path)
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                Leftovers.remove(in: directory)
            } catch {
                throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: path), "cannot create the vocabulary's folder")
            }
            defer { Leftovers.settled(temporary) }
            try TableWriter.write(path: temporary, columns: VocabularyFile.columns, batch: VocabularyFile.batch(entries), options: options)
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw TallyError(.io, stage: .write, at: InputLocation(path: path), "cannot replace the vocabulary: \(String(cString: strerror(errno)))")
            }
        }
    }
}
