import Foundation

/// Everything a run reads besides the logs: the input files, the loaded vocabularies, the
/// loss's target and the embedding table. Read once; a run, or each of `gradcheck`'s
/// evaluations, starts from it.
struct RunInputs: Sendable {
    /// The files to read (a shard's map reads only its own).
    var files: [InputFile]
    /// The tokenized roles (`RowRules.roles`) and each one's loaded vocabulary.
    let roles: [Role]
    let loaded: [LoadedVocabulary]
    /// The key the counter counts.
    let shape: KeyShape
    var target: KeyedValues?
    var embeddingFile: KeyedValues?

    init(_ pipeline: Pipeline) throws {
        files = try Self.files(pipeline)
        roles = RowRules(pipeline).roles
        loaded = try roles.map { role in
            let settings = pipeline.vocabulary[role]!
            if settings.mode == .frozen, let path = settings.path, !FileManager.default.fileExists(atPath: path.value) {
                // Every id would be out of vocabulary: surely not what was meant.
                throw TallyError(.noInput, stage: .tokenize, at: path.location,
                                 "the frozen \(role.rawValue) vocabulary '\(InputFiles.display(path.value))' does not exist")
            }
            return try settings.path.map {
                try VocabularyFile.read(path: $0.value, displayPath: InputFiles.display($0.value), oov: settings.oov)
            } ?? LoadedVocabulary()
        }
        shape = KeyShape(key: Self.countedKey(pipeline), tokenized: roles)
        let embedding = pipeline.count.embedding
        let vectorColumns = embedding.map { e in (0..<e.dim).map { "e\($0)" } }
        for table in [pipeline.loss.target, embedding?.table].compactMap({ $0 }) where !FileManager.default.fileExists(atPath: table.value) {
            throw TallyError(.noInput, stage: .reduce, at: table.location, "'\(InputFiles.display(table.value))' does not exist")
        }
        target = try pipeline.loss.target.map {
            try KeyedValues.read($0.value, roles: embedding == nil ? shape.roles : [.user], timeBins: shape.hasTime,
                                 columns: vectorColumns ?? [pipeline.loss.targetColumn], base: pipeline.folder)
        }
        embeddingFile = try embedding?.table.map {
            try KeyedValues.read($0.value, roles: [.item], columns: vectorColumns!, base: pipeline.folder)
        }
    }

    /// The pipeline's input files, in path order.
    static func files(_ pipeline: Pipeline) throws -> [InputFile] {
        for pattern in pipeline.input.paths {
            if let missing = InputFiles.missingFiles(pattern.value, base: pipeline.folder).first {
                throw TallyError(.noInput, stage: .read, at: pattern.location,
                                 "no input file \(InputFiles.display(missing)): input.paths names it without a wildcard")
            }
        }
        do {
            return try InputFiles.expand(pipeline.input.paths.map(\.value), base: pipeline.folder)
        } catch let error as TallyError where error.kind == .noInput {
            // Name the place in the pipeline file, and the patterns as the user can read them.
            let patterns = pipeline.input.paths.map { "'\(InputFiles.display($0.value))'" }.joined(separator: ", ")
            throw TallyError(.noInput, stage: .read, at: pipeline.input.paths.first?.location,
                             "no input file matched \(patterns)")
        }
    }

    /// The key the counter counts: the pipeline's, or (user, item) pairs when embedding bags
    /// need them (`counts.parquet` is then summed back to the pipeline's key).
    static func countedKey(_ pipeline: Pipeline) -> [Pipeline.Count.KeyPart] {
        pipeline.count.embedding != nil ? [.user, .item] : pipeline.count.key.value
    }

    /// Fresh vocabularies, as loaded, for a new counting pass.
    func vocabularies(_ pipeline: Pipeline) -> [Vocabulary] {
        zip(roles, loaded).map { Vocabulary(role: $0, settings: pipeline.vocabulary[$0]!, loaded: $1) }
    }
}

/// The two passes over the input.
enum Passes {
    struct Settings {
        var workers: Int
        var batchBytes: Int
        /// Read only the first rows of the input (for `gradcheck`).
        var rowLimit: Int?
        var progress: Progress?
        let timings: StageTimings
        /// Added to the base weight of given rows: display path → line → δ (for `gradcheck`).
        var weightDeltas: [String: [Int: Double]] = [:]
    }

    /// The counting pass: every batch parsed, tokenized and counted, folded in input order.
    ///
    /// - Parameters:
    ///   - cached: partials of files not to read again, by file index.
    ///   - finished: called on the fold queue with each file's new partial.
    static func count(_ pipeline: Pipeline, _ inputs: RunInputs, ledger: BadRowLedger, _ settings: Settings,
                      cached: [Int: FilePartial] = [:], finished: ((InputFile, FilePartial) -> Void)? = nil) throws -> Fold {
        let fold = Fold(vocabularies: inputs.vocabularies(pipeline), counter: Counter(pipeline: pipeline, shape: inputs.shape),
                        ledger: ledger, policy: pipeline.input.badRows.policy, cached: cached, finished: finished)
        try Stream(files: inputs.files, pipeline: pipeline,
                   works: (0..<settings.workers).map { _ in
                       CountingWork(pipeline: pipeline, counter: fold.counter, savingPartials: finished != nil,
                                    weightDeltas: settings.weightDeltas)
                   },
                   sink: fold, batchBytes: settings.batchBytes, rowLimit: settings.rowLimit, skipping: Set(cached.keys),
                   progress: settings.progress, timings: settings.timings).run()
        return fold
    }

    /// The gradient pass: every kept row again, with its ∂L/∂b_i, handed to `sink` in input order.
    static func gradients<Sink: OrderedSink>(_ pipeline: Pipeline, _ inputs: RunInputs, model: RowGradients,
                                             sink: Sink, _ settings: Settings) throws where Sink.Output == EventGradientRows {
        try Stream(files: inputs.files, pipeline: pipeline,
                   works: (0..<settings.workers).map { _ in GradientWork(pipeline: pipeline, model: model) },
                   sink: sink, batchBytes: settings.batchBytes, rowLimit: settings.rowLimit,
                   progress: nil, timings: settings.timings).run()
    }
}
