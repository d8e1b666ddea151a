import Foundation

/// The counts of the whole run under their final indices, with the loss and its gradients.
/// Columnar: one array per column, never an array per row.
struct Reduction {
    let shape: KeyShape
    /// Per role part of the key, the final index of each output row (rows sorted by key).
    var columns: [[Int32]] = []
    /// Per output row: the time bin (for `[item, time]`).
    var bins: [Int64] = []
    var counts: [Int64] = []
    var values: [Double] = []
    /// ∂v_k/∂θ per output row, for each differentiated parameter, in the pipeline's order.
    var derivatives: [(parameter: Pipeline.Gradients.Parameter, values: [Double])] = []
    /// ∂L/∂v_k per output row.
    var gradient: [Double] = []
    var loss = 0.0
    /// ∂L/∂θ for each differentiated parameter.
    var parameterGradients: [(parameter: Pipeline.Gradients.Parameter, value: Double)] = []
    /// ∂L/∂θ_k for observed keys ∪ target keys, sorted by id.
    var targetGradient: TargetGradient?
    /// The vocabulary table of each tokenized role.
    var vocabularies: [(role: Role, entries: VocabularyEntries)] = []
    /// The vocabulary of each role part of the key.
    var partEntries: [VocabularyEntries] = []
    /// Final index of an id, per tokenized role.
    var finalIds: [RowGradients.FinalIds] = []
    /// Kept rows dropped because an id was out of vocabulary with `oov: drop`.
    var droppedRows: Int64 = 0
    /// With `embedding`: the bags and their gradients, and the item table they used.
    var bags: EmbeddingBags?
    var embeddingTable: EmbeddingTable?
    /// Provisional → final index, per tokenized role.
    var mappings: [VocabularyMapping] = []
    /// With smoothing: (a − b, b).
    var smoothing: (scale: Double, offset: Double)?
    /// The time decay ages are measured from (seconds since the epoch).
    var referenceTime = 0.0

    init(shape: KeyShape) { self.shape = shape }

    /// Drops the lookups from ids to final indices (`finalIds`), once the targets are read and
    /// the per-row gradients written: they share the run's id tables.
    mutating func releaseIdLookups() {
        finalIds.removeAll()
    }

    /// The vocabulary table of `role`.
    func entries(of role: Role) -> VocabularyEntries { vocabularies.first { $0.role == role }!.entries }

    /// The id of role part `part` of row `row` (nil for the OOV bucket).
    func id(part: Int, row: Int) -> ArraySlice<UInt8>? { partEntries[part].id(Int(columns[part][row])) }

    /// Row `row`'s key by final indices (and stored bin), packed as the count tables pack keys.
    func packedKey(row: Int) -> UInt64 {
        let second = shape.hasTime ? KeyShape.storedBin(bins[row])! : columns.count > 1 ? UInt32(bitPattern: columns[1][row]) : 0
        return shape.pack(UInt32(bitPattern: columns[0][row]), second)
    }

    /// Row `row`'s key by ids.
    func idKey(row: Int) -> IdKey {
        var key = IdKey()
        for (part, role) in shape.roles.enumerated() { key.set(role, id(part: part, row: row)) }
        if shape.hasTime { key.bin = bins[row] }
        return key
    }

    /// Throws `.badInput` when a value, a derivative, the loss or a gradient under `loss` is no
    /// number that means something, so that no output of infinities and NaNs passes for numbers:
    /// - a value or a derivative that is infinite, or NaN (a row decayed to 0 times a shift to
    ///   an anchor far off): weights, or weights decayed over very many half-lives, whose sums
    ///   pass the largest double;
    /// - a loss or a gradient that is not finite while the values are: the loss is not defined
    ///   for these values and targets (a negative value under `poisson_nll`, a target whose
    ///   exponential overflows). As its definition says, `kl`'s ∂L/∂v_k is −∞ for a key with
    ///   rows but v_k = 0, and so may ∂L/∂θ be then: those are allowed;
    /// - a negative value under `poisson_nll`, a count that no Poisson rate gives (lgamma would
    ///   still give a number, one that means nothing).
    func requireDefined(loss: Pipeline.Loss.Kind) throws {
        func overflow(_ what: String) -> TallyError {
            TallyError(.badInput, stage: .reduce, "\(what): the sums pass the largest double (weights too large, "
                       + "or decayed over too many half-lives); nothing was written")
        }
        func undefined(_ what: String) -> TallyError {
            TallyError(.badInput, stage: .reduce, "\(what): \(loss.rawValue) is not defined for these values and targets "
                       + "(a NaN target, or terms or exponentials past the largest double); nothing was written")
        }
        // An infinite sum first: a NaN is mostly one times zero (a row far from the rest,
        // anchored with them), not where the sums overflowed.
        func firstBad(_ column: [Double]) -> Int? { column.firstIndex(where: \.isInfinite) ?? column.firstIndex(where: \.isNaN) }
        func text(_ value: Double) -> String { value.isNaN ? "nan" : "\(value)" }
        if let row = firstBad(values) {
            throw overflow("the value of key \(idKey(row: row).description) is \(text(values[row]))")
        }
        for (parameter, column) in derivatives {
            if let row = firstBad(column) {
                throw overflow("∂v/∂\(parameter.rawValue) of key \(idKey(row: row).description) is \(text(column[row]))")
            }
        }
        if loss == .poissonNLL, let row = values.firstIndex(where: { $0 < 0 }) {
            throw TallyError(.badInput, stage: .reduce, "the value of key \(idKey(row: row).description) is \(values[row]): "
                             + "poisson_nll is defined for counts of 0 or more (negative weights?); nothing was written")
        }
        if !self.loss.isFinite { throw undefined("the loss is \(text(self.loss))") }
        if let row = gradient.firstIndex(where: \.isNaN) {
            throw undefined("∂L/∂v of key \(idKey(row: row).description) is nan")
        }
        let infiniteGradients = gradient.contains(where: \.isInfinite)
        if let (parameter, value) = parameterGradients.first(where: { $0.value.isNaN || ($0.value.isInfinite && !infiniteGradients) }) {
            throw undefined("∂L/∂\(parameter.rawValue) is \(text(value))")
        }
        if let value = targetGradient?.gradient.first(where: { !$0.isFinite }) {
            throw undefined("a target gradient is \(text(value))")
        }
    }
}

/// ∂L/∂θ_k of the target (`target_grad.parquet`), for observed keys ∪ target keys, sorted by id.
struct TargetGradient {
    enum Key {
        /// An output row.
        case observed(Int)
        /// A key of the target that was not observed.
        case targetOnly(IdKey)
    }
    /// Per key, in id order: its output row (≥ 0), or −1 − i for `targetOnly[i]`. One word per
    /// key: there is a key for every output row.
    private var entries: [Int] = []
    private var targetOnly: [IdKey] = []
    private(set) var gradient: [Double] = []

    /// An empty table with room for `capacity` keys.
    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        gradient.reserveCapacity(capacity)
    }

    var count: Int { entries.count }

    func key(_ i: Int) -> Key { entries[i] >= 0 ? .observed(entries[i]) : .targetOnly(targetOnly[-1 - entries[i]]) }

    mutating func append(_ key: Key, gradient: Double) {
        switch key {
        case .observed(let row): entries.append(row)
        case .targetOnly(let id):
            entries.append(-1 - targetOnly.count)
            targetOnly.append(id)
        }
        self.gradient.append(gradient)
    }
}

/// Turns the folded run into final indices and values, then evaluates the loss and every
/// gradient (DESIGN §3).
enum Reducer {
    /// - Parameters:
    ///   - counts: the run's counts (`fold.runKeys`); taken, not copied, when the caller gives
    ///     them up (`fold.takeRunKeys()`): they are the largest table of a run.
    ///   - target: the loss's target table, if any.
    ///   - embeddingFile: the embedding table file's rows, if any.
    ///   - releasingIds: whether no id will be looked up after the reduction (no per-row
    ///     gradients). Without a target to match either, the fold's id tables — the largest
    ///     thing left of the run — lose their indexes before the vocabularies are ordered and go
    ///     as soon as they are tabled, and the reduction has no `finalIds`.
    static func reduce(_ fold: Fold, counts: consuming KeyTable, pipeline: Pipeline, target: KeyedValues?,
                       embeddingFile: KeyedValues?, releasingIds: Bool = false) throws -> Reduction {
        let shape = fold.shape
        let counter = fold.counter
        let roles = fold.vocabularies.map(\.role)
        let releasingIds = releasingIds && target == nil
        if releasingIds { fold.dropIdIndexes() }
        let (mappings, entries) = try order(fold.vocabularies)
        let outputShape = KeyShape(key: pipeline.count.key.value, tokenized: roles)
        var reduction = Reduction(shape: outputShape)
        reduction.vocabularies = zip(roles, entries).map { ($0, $1) }
        reduction.mappings = mappings
        reduction.partEntries = outputShape.positions.compactMap { $0.map { entries[$0] } }
        if releasingIds {
            fold.releaseVocabularies()
        } else {
            reduction.finalIds = fold.vocabularies.indices.map {
                RowGradients.FinalIds(table: fold.vocabularies[$0].table, finalIndex: mappings[$0].finalIndex)
            }
        }

        var run = counts
        // Rows that repeat a key (the pairs of a run of one file, unsaved) are added together by
        // `Rows` as it sorts them, to the same sums a saved partial holds. Sums moved to the
        // reference time must be moved once per key, though, as a saved partial's are; and ids
        // added into the OOV bucket must come in one order, the run's keys', whether the file
        // was counted now or read back. (A bucket no id goes to changes nothing: each final key
        // is then one key of the run, whose rows `Rows` adds in the order they came.)
        if (run.repeatsKeys && counter.decay != nil) || mappings.contains(where: \.fillsBucket) { run.consolidate() }
        if let decay = counter.decay, let latest = fold.latestTime {
            switch decay.reference {
            case .end: reduction.referenceTime = latest
            case .instant(let time): reduction.referenceTime = time
            }
            run.reanchor(to: reduction.referenceTime, decay: decay)
        }
        var rows = Rows(consume run, shape: shape, channels: counter.channels, mappings: mappings)
        reduction.droppedRows = rows.droppedRows
        if let smoothing = pipeline.count.smoothing {
            let position = shape.positions[0]!
            rows = rows.smoothed(temperature: smoothing.temperature, size: mappings[position].size,
                                 differentiate: pipeline.gradients.parameters.contains(.temperature))
            reduction.smoothing = Rows.coefficients(temperature: smoothing.temperature, size: mappings[position].size)
        }
        if let embedding = pipeline.count.embedding {
            // Counted as (user, item) pairs: the bags first, then the counts by the output key.
            let items = entries[roles.firstIndex(of: .item)!], users = entries[roles.firstIndex(of: .user)!]
            let table = EmbeddingTable(dim: embedding.dim, seed: embedding.seed,
                                       ids: (0..<items.count).map { items.id($0) }, file: embeddingFile)
            let decay = rows.derivatives[.decay]
            let pairs = rows.keys.indices.map { row in
                (user: shape.id(rows.keys[row], part: 0), item: shape.id(rows.keys[row], part: 1),
                 weight: rows.values[row], decay: decay?[row])
            }
            reduction.bags = EmbeddingBags(pairs: pairs, table: table, userIds: { users.id(Int($0)) },
                                           kind: pipeline.loss.kind.value, target: target)
            reduction.embeddingTable = table
            if outputShape.parts.count == 1 { rows = rows.collapsed(toPart: 1, of: shape, size: items.count) }
        }
        let keys = rows.keys
        reduction.columns = outputShape.positions.indices.compactMap { part in
            outputShape.positions[part] == nil ? nil : Slices.map(keys.count) { outputShape.id(keys[$0], part: part) }
        }
        if outputShape.hasTime { reduction.bins = Slices.map(keys.count) { outputShape.bin(keys[$0]) } }
        reduction.counts = rows.counts
        reduction.values = rows.values
        reduction.derivatives = pipeline.gradients.parameters.map { ($0, rows.derivatives[$0] ?? []) }

        if let bags = reduction.bags {
            reduction.loss = bags.loss
            reduction.parameterGradients = bags.decayGradient.map { [(.decay, $0)] } ?? []
            return reduction
        }
        try evaluateLoss(&reduction, keys: rows.keys, loss: pipeline.loss, target: target)
        reduction.parameterGradients = reduction.derivatives.map { parameter, derivative in
            var total = 0.0
            for (g, d) in zip(reduction.gradient, derivative) where d != 0 { total += g * d }
            return (parameter, total)
        }
        return reduction
    }

    /// Each role's final indices and vocabulary table: with two roles, both at once (ordering a
    /// vocabulary leaves a core idle at times).
    private static func order(_ vocabularies: [Vocabulary]) throws -> (mappings: [VocabularyMapping], entries: [VocabularyEntries]) {
        @Sendable func orderRole(_ role: Int) throws -> (mapping: VocabularyMapping, entries: VocabularyEntries) {
            let mapping = try vocabularies[role].finalize()
            return (mapping, vocabularies[role].entries(mapping))
        }
        let ordered: [(mapping: VocabularyMapping, entries: VocabularyEntries)]
        if vocabularies.count == 2 {
            let (first, second) = try concurrently({ try orderRole(0) }, { try orderRole(1) })
            ordered = [first, second]
        } else {
            ordered = try vocabularies.indices.map(orderRole)
        }
        return (ordered.map(\.mapping), ordered.map(\.entries))
    }

    /// L for the reduced values under another `target` (for `gradcheck`).
    static func loss(of reduction: Reduction, loss: Pipeline.Loss, target: KeyedValues?) throws -> Double {
        var copy = reduction
        try evaluateLoss(&copy, keys: reduction.counts.indices.map(reduction.packedKey), loss: loss, target: target)
        return copy.loss
    }

    /// L over observed keys ∪ target keys, ∂L/∂v and the target gradient. `keys` are the
    /// output rows' packed final keys.
    private static func evaluateLoss(_ reduction: inout Reduction, keys: [UInt64], loss: Pipeline.Loss, target: KeyedValues?) throws {
        var targets: [Double]?
        var targetOnly: [(key: IdKey, value: Double)] = []
        if let target {
            var observed = [Double](repeating: 0, count: keys.count)
            var rowOf: [UInt64: Int] = [:]
            rowOf.reserveCapacity(keys.count)
            for (row, key) in keys.enumerated() { rowOf[key] = row }
            for (index, key) in target.keys.enumerated() {
                let value = target.values[index]
                if let packed = finalKey(key, in: reduction), let row = rowOf[packed] {
                    observed[row] = value
                } else {
                    targetOnly.append((key, value))
                }
            }
            targets = observed
        }
        let evaluation = try loss.kind.value.evaluate(values: reduction.values, counts: reduction.counts,
                                                      targets: targets, targetOnly: targetOnly.map(\.value))
        reduction.loss = evaluation.loss
        reduction.gradient = evaluation.valueGradient
        guard let gradient = evaluation.targetGradient else { return }

        // Observed rows in id order (through each role's rank of ids), merged with the target's
        // own keys in id order.
        let observed = idOrder(reduction)
        let extra = targetOnly.indices.sorted { targetOnly[$0].key < targetOnly[$1].key }
        var result = TargetGradient(capacity: observed.count + extra.count)
        var i = 0, j = 0
        while i < observed.count || j < extra.count {
            if j == extra.count || (i < observed.count && reduction.idKey(row: observed[i]) < targetOnly[extra[j]].key) {
                result.append(.observed(observed[i]), gradient: gradient[observed[i]])
                i += 1
            } else {
                result.append(.targetOnly(targetOnly[extra[j]].key), gradient: gradient[keys.count + extra[j]])
                j += 1
            }
        }
        reduction.targetGradient = result
    }

    /// The packed final key of a target key, or nil when one of its ids is not in the
    /// vocabulary (or only in its OOV bucket): then it matches no row.
    private static func finalKey(_ key: IdKey, in reduction: Reduction) -> UInt64? {
        let shape = reduction.shape
        var parts: [UInt32] = []
        for (part, position) in shape.positions.enumerated() {
            guard let position else {
                guard let bin = key.bin, let stored = KeyShape.storedBin(bin) else { return nil }
                parts.append(stored)
                continue
            }
            let role = shape.roles[part]
            guard let id = key.id(of: role),
                  let index = id.withUnsafeBytes({ reduction.finalIds[position].index($0) }),
                  !(index == 0 && reduction.mappings[position].hasBucket)
            else { return nil }
            parts.append(UInt32(bitPattern: index))
        }
        return shape.pack(parts[0], parts.count > 1 ? parts[1] : 0)
    }

    /// The output rows sorted by their ids (bytes ascending, the OOV bucket first), then by bin.
    private static func idOrder(_ reduction: Reduction) -> [Int] {
        let ranks = reduction.partEntries.map(byteRanks)
        let keys = reduction.counts.indices.map { row -> UInt64 in
            let first = UInt64(ranks[0][Int(reduction.columns[0][row])])
            if reduction.shape.hasTime { return first << 32 | UInt64(KeyShape.storedBin(reduction.bins[row])!) }
            return reduction.columns.count > 1 ? first << 32 | UInt64(ranks[1][Int(reduction.columns[1][row])]) : first
        }
        return radixOrder(consume keys).map(Int.init)
    }

    /// The rank of each index of a vocabulary in the byte order of its ids (a null id first).
    private static func byteRanks(_ entries: VocabularyEntries) -> [UInt32] {
        let order = byteStringOrder(entries.count, word: { index, from in
            guard entries.hasId(index) else { return 0 }
            return entries.ids.bytes.withUnsafeBytes { bigEndianWord(UnsafeRawBufferPointer(rebasing: $0[entries.range(index)]), from: from) }
        }, precedes: entries.idPrecedes)
        var ranks = [UInt32](repeating: 0, count: order.count)
        for (rank, index) in order.enumerated() { ranks[Int(index)] = UInt32(rank) }
        return ranks
    }
}

/// The final rows, sorted by key: counts, values and the values' derivatives.
private struct Rows {
    var keys: [UInt64] = []
    var counts: [Int64] = []
    var values: [Double] = []
    var derivatives: [Pipeline.Gradients.Parameter: [Double]] = [:]

    /// Kept rows dropped because an id was out of vocabulary (`oov: drop`).
    var droppedRows: Int64 = 0

    /// The run's rows under their final indices, sorted by key; the sums of ids that share an
    /// index (the OOV bucket) are added in the run's row order. Only keys with count > 0 or
    /// value ≠ 0.
    init(_ table: consuming KeyTable, shape: KeyShape, channels: Channels, mappings: [VocabularyMapping]) {
        var rows = table
        if mappings.contains(where: \.dropsIds) {
            let total = rows.counts.reduce(0, +)
            rows.mapKeys { key in
                var dropped = false
                let mapped = shape.map(key) { position, id in
                    let index = mappings[position].finalIndex[Int(id)]
                    if index == VocabularyMapping.dropped { dropped = true }
                    return index
                }
                return dropped ? nil : mapped
            }
            droppedRows = total - rows.counts.reduce(0, +)
        } else {
            rows.translateKeys { key in shape.map(key) { position, id in mappings[position].finalIndex[Int(id)] } }
        }
        rows.consolidate()
        rows.removeEmptyRows()
        (keys, counts) = (rows.keys, rows.counts)
        values = rows.channels == 1 ? rows.sums : (0..<rows.count).map { rows.sum($0, 0) }
        if let decay = channels.decay { derivatives[.decay] = (0..<rows.count).map { rows.sum($0, decay) } }
        if let bandwidth = channels.bandwidth { derivatives[.bandwidth] = (0..<rows.count).map { rows.sum($0, bandwidth) } }
    }

    private init() {}

    /// (a − b, b) for temperature τ over K keys.
    static func coefficients(temperature tau: Double, size: Int) -> (scale: Double, offset: Double) {
        let s = Foundation.exp(-1 / tau)
        let denominator = 1 + (Double(size) - 1) * s
        return ((1 - s) / denominator, s / denominator)
    }

    /// The rows summed over every part but `part` (in key order), keyed by that part alone:
    /// the counts by item of (user, item) pairs.
    func collapsed(toPart part: Int, of shape: KeyShape, size: Int) -> Rows {
        var counts = [Int64](repeating: 0, count: size), values = [Double](repeating: 0, count: size)
        var derivatives = self.derivatives.mapValues { _ in [Double](repeating: 0, count: size) }
        for (row, key) in keys.enumerated() {
            let k = Int(shape.id(key, part: part))
            counts[k] += self.counts[row]
            values[k] += self.values[row]
            for (parameter, derivative) in self.derivatives { derivatives[parameter]![k] += derivative[row] }
        }
        var result = Rows()
        let kept = (0..<size).filter { counts[$0] > 0 || values[$0] != 0 }
        result.keys = kept.map { UInt64($0) }
        result.counts = kept.map { counts[$0] }
        result.values = kept.map { values[$0] }
        result.derivatives = derivatives.mapValues { column in kept.map { column[$0] } }
        return result
    }

    /// Label smoothing of the counts, the closed form of softmax(one_hot/τ) summed over rows:
    /// with s = e^(−1/τ), a = 1/(1 + (K − 1)s), b = s/(1 + (K − 1)s) and W = Σ v,
    /// ṽ_k = b·W + (a − b)·v_k over all K keys of the vocabulary, and
    /// ∂ṽ_k/∂τ = s(W − K v_k)/(τ²(1 + (K − 1)s)²). Written with s rather than e^(1/τ) so that
    /// neither small nor large temperatures overflow.
    func smoothed(temperature tau: Double, size: Int, differentiate: Bool) -> Rows {
        let K = Double(size)
        var dense = [Double](repeating: 0, count: size), denseCounts = [Int64](repeating: 0, count: size)
        var denseDecay: [Double]? = derivatives[.decay].map { _ in [Double](repeating: 0, count: size) }
        for (row, key) in keys.enumerated() {
            let k = Int(key)
            dense[k] = values[row]
            denseCounts[k] = counts[row]
            if let decay = derivatives[.decay] { denseDecay![k] = decay[row] }
        }
        let total = orderedSum(values)
        let totalDecay = derivatives[.decay].map(orderedSum)
        let s = Foundation.exp(-1 / tau)
        let denominator = 1 + (K - 1) * s
        let (scale, b) = Self.coefficients(temperature: tau, size: size)
        let a = scale + b

        var result = Rows()
        if differentiate { result.derivatives[.temperature] = [] }
        if totalDecay != nil { result.derivatives[.decay] = [] }
        for k in 0..<size {
            let value = b * total + (a - b) * dense[k]
            guard denseCounts[k] > 0 || value != 0 else { continue }
            result.keys.append(UInt64(k))
            result.counts.append(denseCounts[k])
            result.values.append(value)
            if let totalDecay { result.derivatives[.decay]!.append(b * totalDecay + (a - b) * denseDecay![k]) }
            if differentiate {
                result.derivatives[.temperature]!.append(s * (total - K * dense[k]) / (tau * tau * denominator * denominator))
            }
        }
        return result
    }
}

extension Reducer {
    /// What the second pass needs to give every kept row its ∂L/∂b_i.
    static func rowGradients(_ reduction: Reduction, fold: Fold, pipeline: Pipeline) -> RowGradients {
        let shape = reduction.shape
        var gradients = KeyTable(channels: 1, capacity: reduction.counts.count)
        if reduction.bags == nil {
            for row in reduction.counts.indices {
                gradients.add(key: reduction.packedKey(row: row), count: 0, reduction.gradient[row])
            }
        }
        let roles = fold.vocabularies.map(\.role)
        var embedding: (EmbeddingTable, [Double], Int, Int)?
        if let bags = reduction.bags, let table = reduction.embeddingTable {
            let user = roles.firstIndex(of: .user)!
            var dense = [Double](repeating: 0, count: reduction.mappings[user].size * bags.dim)
            for (i, group) in bags.groups.enumerated() {
                for d in 0..<bags.dim { dense[Int(group) * bags.dim + d] = bags.bagGradients[i * bags.dim + d] }
            }
            embedding = (table, dense, user, roles.firstIndex(of: .item)!)
        }
        let smoothing = reduction.smoothing.map { ($0.scale, $0.offset * orderedSum(reduction.gradient)) }
        return RowGradients(
            ids: reduction.finalIds,
            shape: shape, gradients: gradients, smoothing: smoothing, decay: fold.counter.decay,
            reference: reduction.referenceTime, kernel: fold.counter.kernel, embedding: embedding)
    }
}
