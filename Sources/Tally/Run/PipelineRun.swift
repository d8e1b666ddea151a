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
        let files = try InputFiles.expand(pipeline.input.paths.map(\.value), base: pipeline.folder)
        let rules = RowRules(pipeline)
        let vocabularies = try rules.roles.map { role in
            let settings = pipeline.vocabulary[role]!
            let loaded = try settings.path.map {
                try VocabularyFile.read(path: $0.value, displayPath: InputFiles.display($0.value), oov: settings.oov)
            } ?? LoadedVocabulary()
            return Vocabulary(role: role, settings: settings, loaded: loaded)
        }
        let countKey = Self.countedKey(pipeline)
        let shape = KeyShape(key: countKey, tokenized: rules.roles)
        let embedding = pipeline.count.embedding
        let vectorColumns = embedding.map { e in (0..<e.dim).map { "e\($0)" } }
        let target = try pipeline.loss.target.map {
            try KeyedValues.read($0.value, roles: embedding == nil ? shape.roles : [.user],
                                 columns: vectorColumns ?? [pipeline.loss.targetColumn], base: pipeline.folder)
        }
        let embeddingFile = try embedding?.table.map {
            try KeyedValues.read($0.value, roles: [.item], columns: vectorColumns!, base: pipeline.folder)
        }

        let folder = try OutputFolder(path: pipeline.output.dir.value)
        var published = false
        defer { if !published { folder.discard() } }

        var outputs = Outputs(folder: folder, pipeline: pipeline)
        let ledger = try BadRowLedger(policy: pipeline.input.badRows, quarantinePath: folder.file("quarantine.parquet"),
                                      options: outputs.options)
        let fold = Fold(vocabularies: vocabularies, counter: Counter(pipeline: pipeline, shape: shape), ledger: ledger)
        let workers = options.workers ?? pipeline.run.workers ?? ProcessInfo.processInfo.activeProcessorCount
        let progress = options.progress ? Progress.onTerminal(totalBytes: files.reduce(0) { $0 + $1.size }) : nil
        let timings = StageTimings()
        let stream = Stream(files: files, pipeline: pipeline,
                            works: (0..<max(1, workers)).map { _ in CountingWork(pipeline: pipeline, counter: fold.counter) },
                            sink: fold, batchBytes: options.batchBytes, progress: progress, timings: timings)
        defer { progress?.finish() }
        try stream.run()

        let reduction = try timings.measure(.reduce) { try Reducer.reduce(fold, pipeline: pipeline, target: target, embeddingFile: embeddingFile) }
        if pipeline.gradients.perEvent {
            // ∂L/∂v exists only now: a second pass gives every kept row its gradient.
            let sink = try EventGradientSink(path: folder.file("event_grads.parquet"), shape: reduction.shape,
                                             options: outputs.options)
            let model = Reducer.rowGradients(reduction, fold: fold, pipeline: pipeline)
            let second = Stream(files: files, pipeline: pipeline,
                                works: (0..<max(1, workers)).map { _ in GradientWork(pipeline: pipeline, model: model) },
                                sink: sink, batchBytes: options.batchBytes, progress: nil, timings: timings)
            try second.run()
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

    /// The key the counter counts: the pipeline's, or (user, item) pairs when embedding bags
    /// need them (`counts.parquet` is then summed back to the pipeline's key).
    static func countedKey(_ pipeline: Pipeline) -> [Pipeline.Count.KeyPart] {
        pipeline.count.embedding != nil ? [.user, .item] : pipeline.count.key.value
    }

    /// Saves each vocabulary with a `path` and mode `extend`, atomically (temporary file, rename).
    private func writeBackVocabularies(_ reduction: Reduction, options: ParquetWriterOptions) throws {
        for (role, entries) in reduction.vocabularies {
            guard let settings = pipeline.vocabulary[role], settings.mode == .extend, let path = settings.path?.value else { continue }
            let directory = (path as NSString).deletingLastPathComponent
            let temporary = "\(directory)/.\((path as NSString).lastPathComponent).tally-tmp-\(getpid())"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: path), "cannot create the vocabulary's folder")
            }
            try TableWriter.write(path: temporary, columns: VocabularyFile.columns, batch: VocabularyFile.batch(entries), options: options)
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw TallyError(.io, stage: .write, at: InputLocation(path: path), "cannot replace the vocabulary: \(String(cString: strerror(errno)))")
            }
        }
    }
}
