import Foundation

/// The map side of a sharded run (`tally plan`, `tally run --shard`); `reduce(partials:)` is
/// the other side. Every input file belongs to exactly one shard (`ShardPlan`); a shard's result
/// is the partials of its files, the same values a one-machine run folds, so the reduce folds
/// them into the same bytes.
extension PipelineRun {
    /// What a shard's map did.
    public struct ShardReport: Sendable {
        public var files: Int
        /// Files whose partial was already in the folder (a retried or duplicated task).
        public var reused: Int
        /// Rows read (0 for a gradient map).
        public var rowsRead: Int
        /// Rows kept; for a gradient map, rows given their gradient.
        public var rowsKept: Int
        public var badRows: Int
    }

    /// `tally plan`: which files go to which of `shards` shards, as JSON.
    public func plan(shards: Int) throws -> String {
        guard shards >= 1 else { throw TallyError(.usage, stage: .plan, "--shards must be at least 1, not \(shards)") }
        return ShardPlan(files: try RunInputs.files(pipeline), count: shards).json(pipeline: pipeline).rendered()
    }

    /// `tally run --shard I/N --partials DIR`: counts the files of `shard` and writes their
    /// partials into `partials`. A file whose partial is already there (same path, size, content
    /// and settings) is not read again, so a retried task redoes only what is missing.
    public func map(shard: Shard, partials: String) throws -> ShardReport {
        try pipeline.requirePartialsFolder(partials, option: "--partials")
        var inputs = try RunInputs(pipeline)
        let store = try PartialStore(folder: partials, pipeline: pipeline, inputs: inputs, shards: shard.count)
        inputs.files = ShardPlan(files: inputs.files, count: shard.count).files(of: shard)
        let settings = passSettings(inputs, timings: StageTimings())
        EventLog.shared.start(pipeline, files: inputs.files.count, workers: settings.workers)
        defer { settings.progress?.finish() }
        let existing = store.lookup(inputs.files)
        let ledger = try BadRowLedger(policy: pipeline.input.badRows, quarantinePath: nil)
        let fold = try store.saving {
            try Passes.count(pipeline, inputs, ledger: ledger, settings, cached: existing, finished: { store.save($0, $1) })
        }
        return ShardReport(files: inputs.files.count, reused: existing.count, rowsRead: fold.runStats.read,
                           rowsKept: fold.runStats.kept, badRows: fold.runStats.bad)
    }

    /// `tally run --shard I/N --partials DIR --gradients-from OUTPUT`: the per-row gradients of
    /// the files of `shard`, as parts in `partials` that the next `tally reduce` copies into
    /// `event_grads.parquet`.
    ///
    /// ∂L/∂v is a function of the whole reduction: the map takes it from the row-gradient model
    /// that `tally reduce` left in `partials`, after checking that `output` (what that reduce
    /// published) has the same pipeline file and loss; then it reads only its own files.
    public func mapGradients(shard: Shard, partials: String, output: String) throws -> ShardReport {
        guard pipeline.gradients.perEvent else {
            throw TallyError(.usage, stage: .run, at: InputLocation(path: InputFiles.display(pipeline.path)),
                             "--gradients-from needs a pipeline with gradients.per_event: true")
        }
        var inputs = try RunInputs(pipeline)
        let store = try PartialStore(folder: partials, pipeline: pipeline, inputs: inputs, existing: true)
        let model = try store.model(pipeline, inputs)
        try checkPublished(output, model: model, partials: partials)
        inputs.files = ShardPlan(files: inputs.files, count: shard.count).files(of: shard)
        let settings = passSettings(inputs, timings: StageTimings())
        EventLog.shared.start(pipeline, files: inputs.files.count, workers: settings.workers)
        defer { settings.progress?.finish() }
        let writer = GradientPartWriter(store: store, digest: model.digest)
        do {
            try Passes.gradients(pipeline, inputs, model: model.gradients, sink: writer, settings)
        } catch {
            writer.discard()
            throw error
        }
        return ShardReport(files: inputs.files.count, reused: 0, rowsRead: 0, rowsKept: writer.rows, badRows: 0)
    }

    /// Checks that `model` (from the folder `partials`) and `output` (what `tally reduce`
    /// published with it) were made with this pipeline file and these variables, and that
    /// `output` has the model's loss.
    private func checkPublished(_ output: String, model: GradientModel, partials: String) throws {
        let loss = model.loss
        let path = "\(output)/summary.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TallyError(.noInput, stage: .run, at: InputLocation(path: InputFiles.display(path)),
                             "no published output here: run tally reduce first")
        }
        let summary = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        let hash = (summary?["pipeline"] as? [String: Any])?["hash"] as? String
        // The loss's number read with Double's correctly rounded parser, not Foundation's JSON
        // one, which may round the last digit: summary.json writes the shortest text that reads
        // back to the same bits.
        let text = String(decoding: data, as: UTF8.self)
        let published = text.firstMatch(of: /"loss"\s*:\s*([^,\s}]+)/).flatMap { Double($0.1) }
        let sameLoss = published.map { $0.bitPattern == loss.bitPattern } ?? false
        let place = InputLocation(path: InputFiles.display(path))
        if model.pipelineHash != pipeline.hash {
            throw TallyError(.badInput, stage: .run, at: InputLocation(path: InputFiles.display(partials)),
                             "the row-gradient model in the partials folder was made with another pipeline file or other --var values: "
                                 + "run tally reduce again with these")
        }
        if hash != pipeline.hash {
            throw TallyError(.badInput, stage: .run, at: place,
                             "this output was made with another pipeline file or other --var values: give --gradients-from the "
                                 + "output.dir of this pipeline (\(InputFiles.display(pipeline.output.dir.value)))")
        }
        guard sameLoss else {
            throw TallyError(.badInput, stage: .run, at: place,
                             "this output was not reduced from these partials (loss \(published.map { "\($0)" } ?? "none") there, \(loss) "
                                 + "in the partials' row-gradient model): run tally reduce again")
        }
    }
}
