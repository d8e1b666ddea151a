/// The rules between fields (DESIGN §2, §3): each broken rule is a located error, never a silent
/// choice. A rule whose inputs were already reported as bad stays quiet.
///
/// Also fills in the vocabulary of every tokenized role that the file does not list.
struct PipelineChecks {
    let reader: ConfigReader
    /// `input.header`, nil when it was bad.
    let header: Bool?

    func check(_ pipeline: inout Pipeline) {
        checkRoles(pipeline)
        checkCount(pipeline)
        checkLoss(pipeline)
        checkGradients(pipeline)
        checkOptions(pipeline)
        checkOutputFolder(pipeline)
        checkInputsReadOnlyLogs(pipeline)
        addDefaultVocabularies(&pipeline)
    }

    /// Whether `role` has a column, or its column was reported bad (so no second error).
    private func hasColumn(_ role: Pipeline.ColumnRole, _ pipeline: Pipeline) -> Bool {
        pipeline.input.columns[role] != nil || reader.hasFailed("input.columns.\(role.rawValue)")
            || reader.hasFailed("input")
    }

    /// Whether `count.key` was read (or defaulted) without a problem.
    private var keyKnown: Bool {
        !reader.hasFailed("count.key")
    }

    private func describe(_ key: [Pipeline.Count.KeyPart]) -> String {
        "[\(key.map(\.rawValue).joined(separator: ", "))]"
    }

    private func at(_ keyPath: String) -> InputLocation? {
        reader.keyLocation(keyPath)
    }

    /// Every role that the key, the weights or the time handling use has a column.
    private func checkRoles(_ pipeline: Pipeline) {
        let count = pipeline.count
        if keyKnown {
            for part in count.key.value {
                if !hasColumn(part.column, pipeline) {
                    reader.report("count.key \(describe(count.key.value)) uses \(part.rawValue), "
                                  + "but input.columns has no \(part.column.rawValue) column", at: count.key.location)
                }
            }
        }
        if count.decay != nil && !hasColumn(.time, pipeline) {
            reader.report("count.decay needs input.columns.time (the age of each row)", at: at("count.decay"))
        }
        if count.timeBins != nil && !hasColumn(.time, pipeline) && !count.key.value.contains(.time) {
            reader.report("count.time_bins needs input.columns.time", at: at("count.time_bins"))
        }
        if case .events = count.weight, !hasColumn(.event, pipeline) {
            reader.report("count.weight.events needs input.columns.event", at: at("count.weight.events"))
        }
        if let embedding = count.embedding, !reader.hasFailed("count.embedding.group") {
            if !hasColumn(embedding.group.column, pipeline) {
                reader.report("count.embedding groups by \(embedding.group.rawValue), "
                              + "but input.columns has no \(embedding.group.rawValue) column",
                              at: at("count.embedding.group") ?? embedding.location)
            }
        }
        for (role, settings) in pipeline.vocabulary.sorted(by: { $0.key < $1.key }) {
            if !hasColumn(role.column, pipeline) {
                reader.report("vocabulary.\(role.rawValue) needs input.columns.\(role.rawValue)", at: settings.location)
            }
        }
        if at("input.time_format") != nil && !hasColumn(.time, pipeline) {
            reader.report("input.time_format is given, but input.columns has no time column",
                          at: at("input.time_format"))
        }
    }

    /// Key, time bins, smoothing and embedding fit together.
    private func checkCount(_ pipeline: Pipeline) {
        let count = pipeline.count
        let key = count.key.value
        let known = keyKnown
        if known && key.contains(.time) && count.timeBins == nil && !reader.hasFailed("count.time_bins") {
            reader.report("count.key \(describe(key)) needs count.time_bins", at: count.key.location ?? at("count"))
        }
        if known && !key.contains(.time) && count.timeBins != nil {
            reader.report("count.time_bins applies only to the key [item, time], not \(describe(key))",
                          at: at("count.time_bins"))
        }
        if let smoothing = count.smoothing {
            if known && key.count != 1 {
                reader.report("count.smoothing applies only to the keys [item] and [user], not \(describe(key))",
                              at: smoothing.location)
            }
            if count.embedding != nil {
                reader.report("count.smoothing cannot be combined with count.embedding "
                              + "(bags sum the rows' own weights)", at: smoothing.location)
            }
        }
        if let embedding = count.embedding, known, key != [.item], key != [.user, .item] {
            reader.report("count.embedding needs the key [item] or [user, item] (bags sum item embeddings), "
                          + "not \(describe(key))", at: embedding.location)
        }
    }

    private func checkLoss(_ pipeline: Pipeline) {
        let loss = pipeline.loss
        guard !reader.hasFailed("loss.kind") && !reader.hasFailed("loss") else { return }
        let kind = loss.kind.value
        if pipeline.count.embedding != nil && kind != .sum && kind != .mse {
            reader.report("loss.kind \(kind.rawValue) cannot be used with count.embedding (expected sum or mse)",
                          at: loss.kind.location)
        }
        if kind == .sum {
            if loss.target != nil {
                reader.report("loss.target is not allowed with kind sum, which has no target", at: at("loss.target"))
            }
            if at("loss.target_column") != nil {
                reader.report("loss.target_column is not allowed with kind sum, which has no target",
                              at: at("loss.target_column"))
            }
        } else if at("loss.target_column") != nil {
            if pipeline.count.embedding != nil {
                reader.report("loss.target_column does not apply with count.embedding "
                              + "(the target's columns are e0..e{dim-1})", at: at("loss.target_column"))
            } else if loss.target == nil && !reader.hasFailed("loss.target") {
                reader.report("loss.target_column is given without loss.target", at: at("loss.target_column"))
            }
        }
    }

    /// Only parameters that exist can be differentiated.
    private func checkGradients(_ pipeline: Pipeline) {
        let count = pipeline.count
        for (index, parameter) in pipeline.gradients.parameters.enumerated() {
            let problem: String? = switch parameter {
            case .decay:
                count.decay == nil ? "'decay' needs count.decay" : nil
            case .temperature:
                count.smoothing == nil ? "'temperature' needs count.smoothing" : nil
            case .bandwidth:
                if count.timeBins == nil {
                    "'bandwidth' needs count.time_bins"
                } else if count.timeBins?.kernel == .hard && !reader.hasFailed("count.time_bins.kernel") {
                    "'bandwidth' needs a time_bins kernel other than hard, which has no bandwidth"
                } else {
                    nil
                }
            }
            guard let problem else { continue }
            reader.report("gradients.parameters: \(problem)", at: parameterLocation(parameter, index: index))
        }
        if pipeline.gradients.embeddingTable && count.embedding == nil {
            reader.report("gradients.embedding_table needs count.embedding", at: at("gradients.embedding_table"))
        }
    }

    private func parameterLocation(_ parameter: Pipeline.Gradients.Parameter, index: Int) -> InputLocation? {
        reader.listElementLocations["gradients.parameters"]?.first { $0.text == parameter.rawValue }?.location
            ?? at("gradients.parameters")
    }

    /// Options that only mean something together with another.
    private func checkOptions(_ pipeline: Pipeline) {
        if pipeline.output.compression == .none, let location = at("output.zstd_level") {
            reader.report("output.zstd_level applies only with compression zstd", at: location)
        }
    }

    /// Nothing a run reads or keeps lies in its output folder, which each run replaces whole:
    /// not the pipeline file, the inputs, a vocabulary, the target, the embedding table or the
    /// state cache.
    private func checkOutputFolder(_ pipeline: Pipeline) {
        guard !reader.hasFailed("output.dir") else { return }
        let folder = PathText.normalize(pipeline.output.dir.value)
        var kept: [(what: String, path: String)] = [
            ("the pipeline file", pipeline.folder + "/" + pipeline.fileName),
        ]
        kept += pipeline.input.paths.map { ("input.paths", $0.value) }
        kept += pipeline.vocabulary.sorted { $0.key.rawValue < $1.key.rawValue }
            .compactMap { role, settings in settings.path.map { ("vocabulary.\(role.rawValue).path", $0.value) } }
        kept += [("loss.target", pipeline.loss.target?.value), ("count.embedding.table", pipeline.count.embedding?.table?.value),
                 ("run.state_dir", pipeline.run.stateDir?.value)].compactMap { what, path in path.map { (what, $0) } }
        for (what, path) in kept where Self.isInside(path, folder: folder) {
            reader.report("output.dir \(InputFiles.display(folder)) holds \(what) (\(InputFiles.display(path))); each run "
                          + "replaces the whole output folder, which would delete it", at: pipeline.output.dir.location)
        }
    }

    /// input.paths match only logs: not a vocabulary, the target, the embedding table or the
    /// state cache's entries, which a run would read as CSV (a vocabulary written back, or the
    /// state cache, from the next run on: a scheduled job that works once, then fails daily).
    private func checkInputsReadOnlyLogs(_ pipeline: Pipeline) {
        guard !reader.hasFailed("input.paths") else { return }
        var files: [(what: String, path: String, entries: [String])] = pipeline.vocabulary.sorted { $0.key.rawValue < $1.key.rawValue }
            .compactMap { role, settings in settings.path.map { ("vocabulary.\(role.rawValue).path", $0.value, [$0.value]) } }
        files += [("loss.target", pipeline.loss.target?.value), ("count.embedding.table", pipeline.count.embedding?.table?.value)]
            .compactMap { what, path in path.map { (what, $0, [$0]) } }
        if let folder = pipeline.run.stateDir?.value {
            files.append(("the files of run.state_dir", folder, Self.stateEntries(in: folder)))
        }
        for (what, path, entries) in files {
            guard let pattern = entries.lazy.compactMap({ Self.inputPattern(matching: $0, in: pipeline) }).first else { continue }
            reader.report("input.paths '\(InputFiles.display(pattern.value))' matches \(what) (\(InputFiles.display(path))), "
                          + "which a run would read as logs: narrow the pattern or move them", at: pattern.location)
        }
    }

    /// The first input pattern that names `path`.
    static func inputPattern(matching path: String, in pipeline: Pipeline) -> Located<String>? {
        pipeline.input.paths.first { InputFiles.pattern($0.value, base: pipeline.folder, matches: path) }
    }

    /// Names like those of the files a folder of partials holds (`InputFile.entryName`, the
    /// row-gradient model), one for each first hex digit of their digests: a pattern such as
    /// `[27]*` matches some of them.
    static func stateEntries(in folder: String) -> [String] {
        "0123456789abcdef".flatMap { digit in
            let settings = String(digit) + String(repeating: "0", count: 15)
            return ["\(settings)-\(String(digit) + String(repeating: "0", count: 23))", settings].flatMap { name in
                ["partial", "grads", GradientModel.kind].map { "\(folder)/\(name).\($0)" }
            }
        }
    }

    /// Whether `path` is the absolute folder `folder` or lies in it.
    static func isInside(_ path: String, folder: String) -> Bool {
        let (path, folder) = (PathText.normalize(path), PathText.normalize(folder))
        return folder == "/" || path == folder || path.hasPrefix(folder + "/")
    }

    /// Roles that the key or the embedding tokenize get default vocabulary settings when the
    /// file does not list them.
    private func addDefaultVocabularies(_ pipeline: inout Pipeline) {
        var roles: Set<Role> = []
        roles.formUnion(pipeline.count.key.value.compactMap(\.role))
        if let embedding = pipeline.count.embedding {
            roles.insert(embedding.group)
            roles.insert(.item)
        }
        for role in roles where pipeline.vocabulary[role] == nil {
            pipeline.vocabulary[role] = .defaults
        }
    }
}
