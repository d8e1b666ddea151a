import Yams

/// Turns a composed YAML tree into a `Pipeline`, section by section, then runs the cross-field
/// checks (`PipelineChecks.swift`). Every problem goes to the reader; the result is only used
/// when there were none.
struct PipelineDecoder {
    let reader: ConfigReader

    /// The keys of each section, in the order messages list them.
    enum Keys {
        static let top = ["version", "name", "description", "input", "vocabulary", "count", "loss",
                          "gradients", "output", "run"]
        static let input = ["paths", "header", "delimiter", "columns", "time_format", "where", "bad_rows", "max_field_bytes"]
        static let columns = Pipeline.ColumnRole.allCases.map(\.rawValue)
        static let badRows = ["policy", "max"]
        static let vocabulary = Role.allCases.map(\.rawValue)
        static let vocabularyEntry = ["path", "mode", "order", "min_count", "max_size", "oov"]
        static let count = ["key", "weight", "decay", "time_bins", "smoothing", "embedding"]
        static let weight = ["column", "events", "default"]
        static let decay = ["half_life", "reference"]
        static let timeBins = ["width", "origin", "kernel", "bandwidth"]
        static let smoothing = ["temperature"]
        static let embedding = ["group", "dim", "table", "seed"]
        static let loss = ["kind", "target", "target_column"]
        static let gradients = ["parameters", "per_event", "embedding_table"]
        static let output = ["dir", "compression", "zstd_level", "row_group_rows"]
        static let run = ["workers", "state_dir"]
    }

    /// The pipeline, or nil when the file is not a mapping or its version is not 1 (then the
    /// rest is not checked: a newer file would only produce noise). Otherwise a value is always
    /// returned, with defaults where values were bad; check `reader.errors` before using it.
    func decode(_ root: Node) -> Pipeline? {
        let rootValue = reader.value(root, path: "")
        guard case .mapping = root else {
            reader.report("expected a mapping at the top of the pipeline file, found \(reader.describe(rootValue))",
                          at: rootValue.location)
            return nil
        }
        // The version first: a file of another version is not checked further.
        if case .mapping(let mapping) = root, let node = mapping["version"] {
            let versionValue = reader.value(node, path: "version")
            guard let version = reader.integer(versionValue) else { return nil }
            guard version == 1 else {
                reader.report("unsupported version \(version) (this tally reads version 1)", about: versionValue)
                return nil
            }
        }
        guard let top = reader.section(rootValue, allowed: Keys.top) else { return nil }
        if !top.contains("version") {
            _ = reader.required("version", in: top)
        }
        var name = ""
        if let value = reader.required("name", in: top), let text = reader.string(value)?.value {
            if text.isEmpty || !text.unicodeScalars.allSatisfy(Self.isNameCharacter) {
                reader.report("expected a name of letters, digits, '_', '.' and '-', found '\(text)'", about: value)
            } else {
                name = text
            }
        }
        let description = top["description"].flatMap { reader.string($0)?.value }

        let input = decodeInput(requiredSection("input", in: top, allowed: Keys.input))
        let count = decodeCount(reader.section("count", in: top, allowed: Keys.count), header: input.header)
        let loss = decodeLoss(requiredSection("loss", in: top, allowed: Keys.loss))
        let vocabulary = decodeVocabulary(reader.section("vocabulary", in: top, allowed: Keys.vocabulary))
        let gradients = decodeGradients(reader.section("gradients", in: top, allowed: Keys.gradients))
        let output = decodeOutput(requiredSection("output", in: top, allowed: Keys.output))
        let run = decodeRun(reader.section("run", in: top, allowed: Keys.run))

        var pipeline = Pipeline(
            path: reader.path, folder: reader.folder, hash: "",
            name: name, description: description,
            input: input.value, vocabulary: vocabulary, count: count, loss: loss,
            gradients: gradients, output: output, run: run)
        PipelineChecks(reader: reader, header: input.header).check(&pipeline)
        return pipeline
    }

    private static func isNameCharacter(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "." || scalar == "-"
    }

    /// A section that must be present (reported missing otherwise).
    private func requiredSection(_ key: String, in parent: ConfigReader.Section,
                                 allowed: [String]) -> ConfigReader.Section? {
        guard parent.contains(key) else {
            _ = reader.required(key, in: parent)
            return nil
        }
        return reader.section(key, in: parent, allowed: allowed)
    }

    // MARK: input

    /// The input section and the value of `header` (nil when it was bad: column references are
    /// then not checked against it).
    private func decodeInput(_ section: ConfigReader.Section?) -> (value: Pipeline.Input, header: Bool?) {
        var input = Pipeline.Input(paths: [], header: true, delimiter: UInt8(ascii: ","), columns: [:],
                                   timeFormat: .unixSeconds, filters: [],
                                   badRows: .init(policy: .fail, max: 0))
        guard let section else { return (input, true) }

        if let value = reader.required("paths", in: section) {
            if case .sequence = value.node {
                let elements = reader.list(value) ?? []
                if elements.isEmpty {
                    reader.report("expected at least one path, found an empty list", about: value)
                }
                input.paths = elements.compactMap { reader.path($0) }
            } else if let path = reader.path(value) {
                input.paths = [path]
            }
        }

        var header: Bool? = true
        if let value = section["header"] {
            header = reader.bool(value)
            input.header = header ?? true
        }

        if let value = section["delimiter"], let text = reader.text(value, expected: "one byte") {
            let byte = text == "\\t" ? [UInt8(ascii: "\t")] : Array(text.utf8)
            if byte.count != 1 {
                reader.report("expected one byte such as \",\", \"\\t\", \";\" or \"|\", found '\(text)'", about: value)
            } else if [UInt8(ascii: "\""), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(byte[0]) {
                reader.report("the delimiter cannot be a quote or a line end", about: value)
            } else {
                input.delimiter = byte[0]
            }
        }

        if let columns = requiredSection("columns", in: section, allowed: Keys.columns) {
            var seen: [Pipeline.ColumnRef: String] = [:]
            for role in Pipeline.ColumnRole.allCases {
                let value = role == .item ? reader.required("item", in: columns) : columns[role.rawValue]
                guard let value, let ref = columnRef(value, header: header) else { continue }
                if let other = seen[ref.value] {
                    reader.report("names the same column as input.columns.\(other)", about: value)
                    continue
                }
                seen[ref.value] = role.rawValue
                input.columns[role] = ref
            }
        }

        if let value = section["time_format"], let format = reader.choice(value, Pipeline.TimeFormat.self) {
            input.timeFormat = format
        }

        if let filters = reader.section("where", in: section, allowed: nil) {
            for entry in filters.entries {
                guard let column = columnRef(key: entry, header: header) else { continue }
                guard let elements = reader.list(entry.value) else { continue }
                if elements.isEmpty {
                    reader.report("expected at least one value, found an empty list (no row would be kept)",
                                  about: entry.value)
                    continue
                }
                // Scalars as written (numbers and booleans too); a null (`~`, empty) is the empty value.
                let values = elements.compactMap { $0.isNull ? "" : reader.text($0, expected: "a value") }
                guard values.count == elements.count else { continue }
                input.filters.append(Pipeline.Filter(column: column, values: values))
            }
        }

        if let badRows = reader.section("bad_rows", in: section, allowed: Keys.badRows) {
            var policy = Pipeline.BadRows.Policy.fail
            if let value = badRows["policy"], let choice = reader.choice(value, Pipeline.BadRows.Policy.self) {
                policy = choice
            }
            var max: Int? = policy == .fail ? 0 : nil
            if let value = badRows["max"], let number = reader.integer(value, in: 0...Int.max) {
                if policy == .fail && number != 0 && !reader.hasFailed("input.bad_rows.policy") {
                    reader.report("must be 0 with policy fail, which stops at the first bad row "
                                  + "(use skip or quarantine to allow some)", about: value)
                } else {
                    max = number
                }
            }
            input.badRows = Pipeline.BadRows(policy: policy, max: max)
        }
        if let value = section["max_field_bytes"], let limit = reader.integer(value, in: 1...(256 << 20)) {
            input.maxFieldBytes = limit
        }
        return (input, header)
    }

    /// A column reference written as a value: a header name when `header` is true, a 0-based
    /// number when false. An unquoted integer under `header: true` is an error (quote it to
    /// name a column whose header is a number).
    func columnRef(_ value: ConfigReader.Value, header: Bool?) -> Located<Pipeline.ColumnRef>? {
        guard let text = reader.text(value, expected: "a column") else { return nil }
        return columnRef(text: text, isPlain: value.isPlain, header: header) { message in
            reader.report(message, about: value)
        }.map { Located($0, at: value.location) }
    }

    /// A column reference written as a key (of `where`): same rules, no substitution.
    private func columnRef(key entry: ConfigReader.Section.Entry, header: Bool?) -> Located<Pipeline.ColumnRef>? {
        columnRef(text: entry.key, isPlain: entry.keyIsPlain, header: header) { message in
            reader.report("\(entry.value.path): \(message)", at: entry.keyLocation)
        }.map { Located($0, at: entry.keyLocation) }
    }

    private func columnRef(text: String, isPlain: Bool, header: Bool?,
                           report: (String) -> Void) -> Pipeline.ColumnRef? {
        switch header {
        case true?:
            if isPlain, let number = Int(text) {
                report("expected a header name because input.header is true, found the number \(number) "
                       + "(quote it if the header names a column \"\(number)\")")
                return nil
            }
            if text.isEmpty {
                report("expected a header name, found an empty string")
                return nil
            }
            return .name(text)
        case false?:
            guard let number = Int(text), number >= 0 else {
                report("expected a 0-based column number because input.header is false, found '\(text)'")
                return nil
            }
            return .index(number)
        case nil:
            if let number = Int(text), number >= 0 { return .index(number) }
            return .name(text)
        }
    }

    // MARK: vocabulary

    private func decodeVocabulary(_ section: ConfigReader.Section?) -> [Role: Pipeline.VocabularySettings] {
        var result: [Role: Pipeline.VocabularySettings] = [:]
        guard let section else { return result }
        for entry in section.entries {
            guard let role = Role(rawValue: entry.key),
                  let settings = reader.section(entry.value, allowed: Keys.vocabularyEntry, at: entry.keyLocation)
            else { continue }
            var vocabulary = Pipeline.VocabularySettings.defaults
            vocabulary.location = entry.keyLocation
            vocabulary.path = settings["path"].flatMap { reader.path($0) }
            if let value = settings["mode"], let mode = reader.choice(value, Pipeline.VocabularySettings.Mode.self) {
                vocabulary.mode = mode
                if mode == .frozen && vocabulary.path == nil && !reader.hasFailed(settings.keyPath("path")) {
                    reader.report("mode frozen needs a path (a frozen vocabulary is read, never built)", about: value)
                }
            }
            if let value = settings["order"], let order = reader.choice(value, Pipeline.VocabularySettings.Order.self) {
                vocabulary.order = order
            }
            if let value = settings["min_count"], let number = reader.integer(value, in: 1...Int.max) {
                vocabulary.minCount = number
            }
            if let value = settings["max_size"], let number = reader.integer(value, in: 0...Int.max) {
                vocabulary.maxSize = number
            }
            if let value = settings["oov"], let oov = reader.choice(value, Pipeline.VocabularySettings.OOV.self) {
                vocabulary.oov = oov
            }
            result[role] = vocabulary
        }
        return result
    }

    // MARK: count

    private func decodeCount(_ section: ConfigReader.Section?, header: Bool?) -> Pipeline.Count {
        var count = Pipeline.Count(key: Located([.item]), weight: .one)
        guard let section else { return count }

        if let value = section["key"], let elements = reader.list(value) {
            let texts = elements.map { element -> String in
                if case .scalar(let scalar) = element.node { return scalar.string }
                return reader.describe(element)
            }
            let allowed: [[Pipeline.Count.KeyPart]] = [[.item], [.user], [.user, .item], [.item, .time]]
            let parts = texts.compactMap(Pipeline.Count.KeyPart.init(rawValue:))
            if parts.count == texts.count, allowed.contains(parts) {
                count.key = Located(parts, at: value.location)
            } else {
                reader.report("expected one of [item], [user], [user, item], [item, time], "
                              + "found [\(texts.joined(separator: ", "))]", about: value)
            }
        } else if section.contains("key") && section["key"] == nil {
            _ = reader.required("key", in: section)
        }

        if let weight = reader.section("weight", in: section, allowed: Keys.weight) {
            count.weight = decodeWeight(weight, header: header)
        }

        if let decay = reader.section("decay", in: section, allowed: Keys.decay) {
            var result = Pipeline.Decay(halfLife: 0, reference: .end, location: decay.location)
            if let value = reader.required("half_life", in: decay), let seconds = reader.duration(value) {
                result.halfLife = seconds
            }
            if let value = decay["reference"], let text = reader.text(value, expected: "'end' or an ISO-8601 instant") {
                if text == "end" {
                    result.reference = .end
                } else if let instant = TimeText.instant(text) {
                    result.reference = .instant(instant)
                } else {
                    reader.report("expected 'end' or an ISO-8601 instant such as 2026-01-01T00:00:00Z, "
                                  + "found '\(text)'", about: value)
                }
            }
            count.decay = result
        }

        if let bins = reader.section("time_bins", in: section, allowed: Keys.timeBins) {
            var result = Pipeline.TimeBins(width: 0, origin: 0, kernel: .hard, bandwidth: 1, location: bins.location)
            if let value = reader.required("width", in: bins), let seconds = reader.duration(value) {
                result.width = seconds
            }
            if let value = bins["origin"], let instant = reader.instant(value) {
                result.origin = instant
            }
            var kernel: Pipeline.TimeBins.Kernel? = .hard
            if let value = bins["kernel"] {
                kernel = reader.choice(value, Pipeline.TimeBins.Kernel.self)
                result.kernel = kernel ?? .hard
            }
            if let value = bins["bandwidth"], let bandwidth = reader.number(value, greaterThan: 0) {
                result.bandwidth = bandwidth
            }
            // The default bandwidth, 1, is within every kernel's bound.
            if let kernel, let value = bins["bandwidth"], !reader.hasFailed(value.path) {
                let bound: Double? = switch kernel {
                case .hard: nil
                case .triangular, .epanechnikov: 0.5
                case .gaussian: 0.125
                }
                if let bound, result.bandwidth <= bound {
                    reader.report("must be greater than \(bound) for the \(kernel.rawValue) kernel, "
                                  + "found \(ConfigReader.format(result.bandwidth))", about: value)
                } else if kernel != .hard && result.bandwidth > Pipeline.TimeBins.maximumBandwidth {
                    // Each row is a key in every bin its kernel reaches: 2·reach + 1 of them.
                    reader.report("must be at most \(ConfigReader.format(Pipeline.TimeBins.maximumBandwidth)) bins, found "
                                  + "\(ConfigReader.format(result.bandwidth)) (each row adds to every bin the kernel reaches; "
                                  + "for wider smoothing, use wider bins)", about: value)
                }
            }
            count.timeBins = result
        }

        if let smoothing = reader.section("smoothing", in: section, allowed: Keys.smoothing) {
            var result = Pipeline.Smoothing(temperature: 1, location: smoothing.location)
            if let value = smoothing["temperature"], let temperature = reader.number(value, greaterThan: 0) {
                result.temperature = temperature
            }
            count.smoothing = result
        }

        if let embedding = reader.section("embedding", in: section, allowed: Keys.embedding) {
            var result = Pipeline.Embedding(group: .user, dim: 1, table: nil, seed: 0, location: embedding.location)
            if let value = embedding["group"], let group = reader.choice(value, Role.self) {
                if group == .user {
                    result.group = group
                } else {
                    reader.report("bags group each user's rows (group: user); the items are what is embedded", about: value)
                }
            }
            if let value = reader.required("dim", in: embedding), let dim = reader.integer(value, in: 1...Int.max) {
                result.dim = dim
            }
            result.table = embedding["table"].flatMap { reader.path($0) }
            if let value = embedding["seed"], let text = reader.text(value, expected: "an integer") {
                if let seed = UInt64(text.replacingOccurrences(of: "_", with: "")) {
                    result.seed = seed
                } else {
                    reader.report("expected an integer between 0 and \(UInt64.max), found '\(text)'", about: value)
                }
            }
            count.embedding = result
        }
        return count
    }

    private func decodeWeight(_ section: ConfigReader.Section, header: Bool?) -> Pipeline.Weight {
        if section.has("column") && section.has("events") {
            reader.report("count.weight: give either column or events, not both", at: section.location)
            return .one
        }
        if let value = section["default"], !section.has("events") {
            reader.report("'default' applies only with 'events'", about: value)
        }
        if let value = section["column"] {
            return columnRef(value, header: header).map { .column($0) } ?? .one
        }
        guard let events = reader.section("events", in: section, allowed: nil) else { return .one }
        var table: [String: Double] = [:]
        for entry in events.entries {
            if let weight = reader.number(entry.value) { table[entry.key] = weight }
        }
        var defaultWeight = 1.0
        if let value = section["default"], let number = reader.number(value) {
            defaultWeight = number
        }
        return .events(table, defaultWeight: defaultWeight)
    }

    // MARK: loss, gradients, output, run

    private func decodeLoss(_ section: ConfigReader.Section?) -> Pipeline.Loss {
        var loss = Pipeline.Loss(kind: Located(.sum), target: nil, targetColumn: "")
        guard let section else { return loss }
        if let value = reader.required("kind", in: section), let kind = reader.choice(value, Pipeline.Loss.Kind.self) {
            loss.kind = Located(kind, at: value.location)
        }
        loss.targetColumn = Pipeline.Loss.defaultTargetColumn(for: loss.kind.value)
        loss.target = section["target"].flatMap { reader.path($0) }
        if let value = section["target_column"], let text = reader.text(value, expected: "a column name") {
            if text.isEmpty {
                reader.report("expected a column name, found an empty string", about: value)
            } else {
                loss.targetColumn = text
            }
        }
        return loss
    }

    private func decodeGradients(_ section: ConfigReader.Section?) -> Pipeline.Gradients {
        var gradients = Pipeline.Gradients(parameters: [], perEvent: false, embeddingTable: false,
                                           location: section?.location)
        guard let section else { return gradients }
        if let value = section["parameters"], let elements = reader.list(value) {
            for element in elements {
                guard let parameter = reader.choice(element, Pipeline.Gradients.Parameter.self) else { continue }
                if gradients.parameters.contains(parameter) {
                    reader.report("'\(parameter.rawValue)' is listed twice", about: element)
                } else {
                    gradients.parameters.append(parameter)
                }
            }
        }
        if let value = section["per_event"], let flag = reader.bool(value) { gradients.perEvent = flag }
        if let value = section["embedding_table"], let flag = reader.bool(value) { gradients.embeddingTable = flag }
        return gradients
    }

    private func decodeOutput(_ section: ConfigReader.Section?) -> Pipeline.Output {
        var output = Pipeline.Output(dir: Located(""), compression: .zstd, zstdLevel: 3, rowGroupRows: 1_048_576)
        guard let section else { return output }
        if let value = reader.required("dir", in: section), let dir = reader.path(value) {
            output.dir = dir
        }
        if let value = section["compression"], let compression = reader.choice(value, Pipeline.Output.Compression.self) {
            output.compression = compression
        }
        if let value = section["zstd_level"], let level = reader.integer(value, in: 1...22) {
            output.zstdLevel = level
        }
        if let value = section["row_group_rows"], let rows = reader.integer(value, in: 1...Int.max) {
            output.rowGroupRows = rows
        }
        return output
    }

    private func decodeRun(_ section: ConfigReader.Section?) -> Pipeline.Run {
        var run = Pipeline.Run(workers: nil, stateDir: nil)
        guard let section else { return run }
        if let value = section["workers"], let text = reader.text(value, expected: "'auto' or a number") {
            if text != "auto" {
                if let number = ConfigReader.parseInteger(text), (1...Pipeline.Run.maximumWorkers).contains(number) {
                    run.workers = number
                } else {
                    reader.report("expected 'auto' or a number of workers from 1 to \(Pipeline.Run.maximumWorkers), found '\(text)'",
                                  about: value)
                }
            }
        }
        run.stateDir = section["state_dir"].flatMap { reader.path($0) }
        return run
    }
}

extension Pipeline.VocabularySettings {
    /// extend, frequency order, min_count 1, unlimited size, an OOV bucket; no file.
    public static var defaults: Self {
        Self(path: nil, mode: .extend, order: .frequency, minCount: 1, maxSize: 0, oov: .bucket, location: nil)
    }
}

extension Pipeline.Loss {
    /// The target column when `target_column` is omitted: `logit` for multinomial_nll and kl,
    /// `log_rate` for poisson_nll, `target` for mse, empty for sum (which has no target).
    public static func defaultTargetColumn(for kind: Kind) -> String {
        switch kind {
        case .multinomialNLL, .kl: "logit"
        case .poissonNLL: "log_rate"
        case .mse: "target"
        case .sum: ""
        }
    }
}
