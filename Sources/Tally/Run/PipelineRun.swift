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

    /// Where a published run's per-file partials come from.
    private enum Source {
        /// The logs, with the state cache when there is one.
        case logs(cache: PartialStore?)
        /// The partials folder of a sharded run, filled by the shards' maps (`tally reduce`).
        case partials(PartialStore)
    }

    /// Runs the pipeline; on failure the previous output is untouched and nothing is left behind.
    public func run() throws -> Report {
        if let folder = options.stateDir { try pipeline.requirePartialsFolder(folder, option: "--state") }
        let locks = try lockVocabularies()
        defer { withExtendedLifetime(locks) {} }
        let inputs = try RunInputs(pipeline)
        let cache = try (options.stateDir ?? pipeline.run.stateDir?.value).map { try PartialStore(folder: $0, pipeline: pipeline, inputs: inputs) }
        return try publish(inputs, from: .logs(cache: cache))
    }

    /// `tally reduce`: folds the partials that the shards' maps wrote into `partials` (every
    /// input file must have one) and publishes the outputs exactly as `run()` does. With
    /// per-row gradients, `event_grads.parquet` is written once the gradient maps have run.
    public func reduce(partials: String) throws -> Report {
        try pipeline.requirePartialsFolder(partials, option: "--partials")
        let locks = try lockVocabularies()
        defer { withExtendedLifetime(locks) {} }
        let inputs = try RunInputs(pipeline)
        return try publish(inputs, from: .partials(PartialStore(folder: partials, pipeline: pipeline, inputs: inputs, existing: true)))
    }

    private func publish(_ inputs: RunInputs, from source: Source) throws -> Report {
        let started = Clock.now
        let folder = try OutputFolder(path: pipeline.output.dir.value)
        var vocabularies = StagedFiles()
        var published = false
        defer { if !published { folder.discard(); vocabularies.discard() } }

        var outputs = Outputs(folder: folder, pipeline: pipeline)
        let ledger = try BadRowLedger(policy: pipeline.input.badRows, quarantinePath: folder.file("quarantine.parquet"),
                                      options: outputs.options)
        let timings = StageTimings()
        var settings = passSettings(inputs, timings: timings)
        let progress = settings.progress
        EventLog.shared.start(pipeline, files: inputs.files.count, workers: settings.workers)
        defer { progress?.finish() }
        let fold: Fold
        switch source {
        case .logs(let cache):
            let count = {
                try Passes.count(pipeline, inputs, ledger: ledger, settings, cached: cache?.lookup(inputs.files) ?? [:],
                                 finished: cache.map { cache in { cache.save($0, $1) } })
            }
            fold = try cache.map { try $0.saving(count) } ?? count()
            cache?.prune(keeping: inputs.files)
        case .partials(let store):
            fold = try Passes.count(pipeline, inputs, ledger: ledger, settings, cached: try store.require(inputs.files))
        }
        // The line is for the counting pass; the rest is quick or has no byte count to show.
        progress?.finish()
        settings.progress = nil

        var reduction = try timings.measure(.reduce) {
            try Reducer.reduce(fold, counts: fold.takeRunKeys(), pipeline: pipeline, target: inputs.target,
                               embeddingFile: inputs.embeddingFile, releasingIds: !pipeline.gradients.perEvent)
        }
        try reduction.requireDefined(loss: pipeline.loss.kind.value)
        let complete = try !pipeline.gradients.perEvent
            || writeEventGradients(inputs, source: source, fold: fold, reduction: reduction, to: &outputs, settings)
        // No id is looked up from here on: the id tables go before the files are written.
        fold.releaseVocabularies()
        reduction.releaseIdLookups()
        try timings.measure(.write) {
            if let quarantined = try ledger.close() { outputs.record("quarantine.parquet", rows: quarantined) }
            try outputs.writeCountsAndVocabularies(reduction)
            try outputs.writeTargetGradient(reduction)
            try outputs.writeBags(reduction, embeddingGradient: pipeline.gradients.embeddingTable)
        }
        let summary = Summary(pipeline: pipeline, fold: fold, reduction: reduction, outputs: outputs.rows,
                              timings: timings, totalSeconds: Clock.seconds(since: started))
        try summary.write(to: folder.file("summary.json"))
        // Not before the per-row gradients are in: the gradient maps and the last reduce must
        // start from the same vocabularies as this one. Written beside their files first, and
        // renamed into place only once the output is: a run that fails changes neither.
        if complete { try stageVocabularies(reduction, options: outputs.options, into: &vocabularies) }
        try Interruption.uninterrupted {
            try folder.publish()
            published = true
            try vocabularies.commit()
        }
        return Report(outputFolder: pipeline.output.dir.value, rowsRead: fold.runStats.read, rowsKept: fold.runStats.kept,
                      badRows: fold.runStats.bad, loss: reduction.loss)
    }

    /// `event_grads.parquet`: ∂L/∂v exists only now, so a second pass over the logs gives every
    /// kept row its gradient. `tally reduce` copies the parts the gradient maps wrote instead;
    /// before they have run, it leaves them the reduction's row-gradient model, and the file out,
    /// with a warning. Returns whether the file was written.
    private func writeEventGradients(_ inputs: RunInputs, source: Source, fold: Fold, reduction: Reduction,
                                     to outputs: inout Outputs, _ settings: Passes.Settings) throws -> Bool {
        let (path, options) = (outputs.folder.file("event_grads.parquet"), outputs.options)
        let sink = { try EventGradientSink(path: path, shape: reduction.shape, options: options) }
        switch source {
        case .logs:
            let sink = try sink()
            try Passes.gradients(pipeline, inputs, model: Reducer.rowGradients(reduction, fold: fold, pipeline: pipeline),
                                 sink: sink, settings)
            try sink.close()
            outputs.record("event_grads.parquet", rows: sink.rows)
        case .partials(let store):
            let digest = GradientParts.digest(pipeline: pipeline, fold: fold, loss: reduction.loss)
            guard try GradientParts.available(for: inputs.files, in: store, digest: digest) else {
                try store.save(GradientModel(pipelineHash: pipeline.hash, loss: reduction.loss, digest: digest,
                                             gradients: Reducer.rowGradients(reduction, fold: fold, pipeline: pipeline)))
                EventLog.shared.warning("event_grads_pending", "event_grads.parquet is not written yet: run the gradient maps "
                                        + "(tally run PIPELINE --shard I/N --partials \(InputFiles.display(store.folder)) "
                                        + "--gradients-from \(InputFiles.display(pipeline.output.dir.value))), then tally reduce again")
                return false
            }
            let sink = try sink()
            try GradientParts.copy(inputs.files, from: store, digest: digest, to: sink)
            try sink.close()
            outputs.record("event_grads.parquet", rows: sink.rows)
        }
        return true
    }

    /// The settings of a pass over `inputs`: the worker count and the progress line.
    func passSettings(_ inputs: RunInputs, timings: StageTimings) -> Passes.Settings {
        let workers = options.workers ?? pipeline.run.workers ?? min(Slices.processors, Pipeline.Run.maximumWorkers)
        let progress = options.progress ? Progress.onTerminal(totalBytes: inputs.files.reduce(0) { $0 + $1.size }) : nil
        return Passes.Settings(workers: max(1, workers), batchBytes: options.batchBytes, progress: progress, timings: timings)
    }

    /// Locks the folders of the vocabularies the run extends (`FolderLock`) before they are
    /// read: runs that extend the same vocabulary take turns instead of each replacing the
    /// others' ids. Held until the run has written them back.
    private func lockVocabularies() throws -> [FolderLock] {
        let folders = pipeline.vocabulary.sorted { $0.key < $1.key }.compactMap { _, settings in
            settings.mode == .extend ? settings.path.map { PathText.folder(of: $0.value) } : nil
        }
        return try FolderLock.lockAll(folders) { folder in
            EventLog.shared.warning("vocabulary_busy", "another run is extending a vocabulary in "
                                    + "\(InputFiles.display(folder)); waiting for it to finish")
        }
    }

    /// Writes each vocabulary with a `path` and mode `extend` to a temporary file beside it.
    private func stageVocabularies(_ reduction: Reduction, options: ParquetWriterOptions, into staged: inout StagedFiles) throws {
        for (role, entries) in reduction.vocabularies {
            guard let settings = pipeline.vocabulary[role], settings.mode == .extend, let path = settings.path?.value else { continue }
            try staged.stage(path) { temporary in
                try TableWriter.write(path: temporary, columns: VocabularyFile.columns, batch: VocabularyFile.batch(entries),
                                      options: options)
            }
        }
    }
}
