import Foundation

/// The counts of the whole run under their final indices, with the loss and its gradients.
struct Reduction {
    let shape: KeyShape
    /// Per output row (sorted by key): the final index of each key role.
    var indices: [[Int32]] = []
    /// Per output row: the time bin (for `[item, time]`).
    var bins: [Int64] = []
    /// Per output row: the id of each key role (nil for the OOV bucket).
    var ids: [[[UInt8]?]] = []
    var counts: [Int64] = []
    var values: [Double] = []
    /// ∂v_k/∂θ per output row, for each differentiated parameter, in the pipeline's order.
    var derivatives: [(parameter: Pipeline.Gradients.Parameter, values: [Double])] = []
    /// ∂L/∂v_k per output row.
    var gradient: [Double] = []
    var loss = 0.0
    /// ∂L/∂θ for each differentiated parameter.
    var parameterGradients: [(parameter: Pipeline.Gradients.Parameter, value: Double)] = []
    /// The target gradient: keys (observed ∪ target) sorted by id, and ∂L/∂θ_k.
    var targetGradient: (keys: [IdKey], gradient: [Double])?
    /// The vocabulary table of each tokenized role.
    var vocabularies: [(role: Role, entries: VocabularyEntries)] = []
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
}

/// Turns the folded run into final indices and values, then evaluates the loss and every
/// gradient (DESIGN §3).
enum Reducer {
    /// - Parameters:
    ///   - target: the loss's target table, if any.
    ///   - embeddingFile: the embedding table file's rows, if any.
    static func reduce(_ fold: Fold, pipeline: Pipeline, target: KeyedValues?, embeddingFile: KeyedValues?) throws -> Reduction {
        let shape = fold.shape
        let counter = fold.counter
        let mappings = try fold.vocabularies.map { try $0.finalize() }
        let entries = fold.vocabularies.indices.map { fold.vocabularies[$0].entries(mappings[$0]) }
        let outputShape = KeyShape(key: pipeline.count.key.value, tokenized: fold.vocabularies.map(\.role))
        var reduction = Reduction(shape: outputShape)
        reduction.vocabularies = zip(fold.vocabularies, entries).map { ($0.role, $1) }
        reduction.mappings = mappings

        // Provisional → final keys; ids mapped into the OOV bucket merge their sums here.
        var final = KeyTable(channels: counter.channels.count, capacity: fold.runKeys.count)
        final.merge(fold.runKeys, decay: counter.decay) { key in
            var dropped = false
            let mapped = shape.map(key) { position, id in
                let index = mappings[position].finalIndex[Int(id)]
                if index == VocabularyMapping.dropped { dropped = true }
                return index
            }
            return dropped ? nil : mapped
        }
        reduction.droppedRows = fold.runKeys.counts.reduce(0, +) - final.counts.reduce(0, +)
        if let decay = counter.decay, let latest = fold.latestTime {
            switch decay.reference {
            case .end: reduction.referenceTime = latest
            case .instant(let time): reduction.referenceTime = time
            }
            final.reanchor(to: reduction.referenceTime, decay: decay)
        }

        var rows = Rows(final, shape: shape, channels: counter.channels)
        if let smoothing = pipeline.count.smoothing {
            let position = shape.positions[0]!
            rows = rows.smoothed(temperature: smoothing.temperature, size: mappings[position].size,
                                 differentiate: pipeline.gradients.parameters.contains(.temperature))
            reduction.smoothing = Rows.coefficients(temperature: smoothing.temperature, size: mappings[position].size)
        }
        if let embedding = pipeline.count.embedding {
            // Counted as (user, item) pairs: the bags first, then the counts by the output key.
            let itemIds = entries[fold.vocabularies.firstIndex { $0.role == .item }!].ids
            let userIds = entries[fold.vocabularies.firstIndex { $0.role == .user }!].ids
            let table = EmbeddingTable(dim: embedding.dim, seed: embedding.seed, ids: itemIds, file: embeddingFile)
            let decay = rows.derivatives[.decay]
            let pairs = rows.keys.indices.map { row in
                (user: shape.id(rows.keys[row], part: 0), item: shape.id(rows.keys[row], part: 1),
                 weight: rows.values[row], decay: decay?[row])
            }
            reduction.bags = EmbeddingBags(pairs: pairs, table: table, userIds: { userIds[Int($0)] },
                                           kind: pipeline.loss.kind.value, target: target)
            reduction.embeddingTable = table
            if outputShape.parts.count == 1 { rows = rows.collapsed(toPart: 1, of: shape, size: itemIds.count) }
        }
        for key in rows.keys {
            var indices: [Int32] = [], ids: [[UInt8]?] = []
            for (part, position) in outputShape.positions.enumerated() {
                guard let position else { continue }
                let index = outputShape.id(key, part: part)
                indices.append(index)
                ids.append(entries[position].ids[Int(index)])
            }
            reduction.indices.append(indices)
            reduction.ids.append(ids)
        }
        if outputShape.hasTime { reduction.bins = rows.keys.map(outputShape.bin) }
        reduction.counts = rows.counts
        reduction.values = rows.values
        reduction.derivatives = pipeline.gradients.parameters.map { ($0, rows.derivatives[$0] ?? []) }

        if let bags = reduction.bags {
            reduction.loss = bags.loss
            reduction.parameterGradients = bags.decayGradient.map { [(.decay, $0)] } ?? []
            return reduction
        }
        try evaluateLoss(&reduction, loss: pipeline.loss, target: target)
        reduction.parameterGradients = reduction.derivatives.map { parameter, derivative in
            var total = 0.0
            for (g, d) in zip(reduction.gradient, derivative) where d != 0 { total += g * d }
            return (parameter, total)
        }
        return reduction
    }

    /// L for the reduced values under another `target` (for `gradcheck`).
    static func loss(of reduction: Reduction, loss: Pipeline.Loss, target: KeyedValues?) throws -> Double {
        var copy = reduction
        try evaluateLoss(&copy, loss: loss, target: target)
        return copy.loss
    }

    /// L over observed keys ∪ target keys, ∂L/∂v and the target gradient.
    private static func evaluateLoss(_ reduction: inout Reduction, loss: Pipeline.Loss, target: KeyedValues?) throws {
        let roles = reduction.shape.roles
        let observedKeys = reduction.ids.indices.map { row in
            var key = IdKey()
            for (role, id) in zip(roles, reduction.ids[row]) { key.set(role, id) }
            if reduction.shape.hasTime { key.bin = reduction.bins[row] }
            return key
        }
        // An OOV key has a null id, which no target key has: it takes target 0.
        let targets = observedKeys.map { target?.value(for: $0) ?? 0 }
        var targetOnlyKeys: [IdKey] = [], targetOnly: [Double] = []
        if let target {
            let observed = Set(observedKeys)
            for (key, value) in zip(target.keys, target.values) where !observed.contains(key) {
                targetOnlyKeys.append(key)
                targetOnly.append(value)
            }
        }
        let evaluation = try loss.kind.value.evaluate(values: reduction.values, counts: reduction.counts,
                                                      targets: targets, targetOnly: targetOnly)
        reduction.loss = evaluation.loss
        reduction.gradient = evaluation.valueGradient
        if let gradient = evaluation.targetGradient {
            let keys = observedKeys + targetOnlyKeys
            let sorted = keys.indices.sorted { keys[$0] < keys[$1] }
            reduction.targetGradient = (sorted.map { keys[$0] }, sorted.map { gradient[$0] })
        }
    }
}

/// The final rows, sorted by key: counts, values and the values' derivatives.
private struct Rows {
    var keys: [UInt64] = []
    var counts: [Int64] = []
    var values: [Double] = []
    var derivatives: [Pipeline.Gradients.Parameter: [Double]] = [:]

    init(_ table: KeyTable, shape: KeyShape, channels: Channels) {
        let order = (0..<table.count).sorted { table.keys[$0] < table.keys[$1] }
        keys = order.map { table.keys[$0] }
        counts = order.map { table.counts[$0] }
        values = order.map { table.sum($0, 0) }
        if let c = channels.decay { derivatives[.decay] = order.map { table.sum($0, c) } }
        if let c = channels.bandwidth { derivatives[.bandwidth] = order.map { table.sum($0, c) } }
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
            for row in reduction.indices.indices {
                let first = UInt32(bitPattern: reduction.indices[row][0])
                let second = shape.parts.count < 2 ? 0
                    : shape.hasTime ? KeyShape.storedBin(reduction.bins[row])! : UInt32(bitPattern: reduction.indices[row][1])
                gradients.add(key: shape.pack(first, second), count: 0, reduction.gradient[row])
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
            ids: fold.vocabularies.indices.map { RowGradients.FinalIds(table: fold.vocabularies[$0].table,
                                                                        finalIndex: reduction.mappings[$0].finalIndex) },
            shape: shape, gradients: gradients, smoothing: smoothing, decay: fold.counter.decay,
            reference: reduction.referenceTime, kernel: fold.counter.kernel, embedding: embedding)
    }
}
