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

    init(shape: KeyShape) { self.shape = shape }
}

/// Turns the folded run into final indices and values, then evaluates the loss and every
/// gradient (DESIGN §3).
enum Reducer {
    static func reduce(_ fold: Fold, pipeline: Pipeline, target: TargetTable?) throws -> Reduction {
        let shape = fold.shape
        let counter = fold.counter
        let mappings = try fold.vocabularies.map { try $0.finalize() }
        let entries = fold.vocabularies.indices.map { fold.vocabularies[$0].entries(mappings[$0]) }
        var reduction = Reduction(shape: shape)
        reduction.vocabularies = zip(fold.vocabularies, entries).map { ($0.role, $1) }

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
            case .end: final.reanchor(to: latest, decay: decay)
            case .instant(let time): final.reanchor(to: time, decay: decay)
            }
        }

        var rows = Rows(final, shape: shape, channels: counter.channels)
        if let smoothing = pipeline.count.smoothing {
            let position = shape.positions[0]!
            rows = rows.smoothed(temperature: smoothing.temperature, size: mappings[position].size,
                                 differentiate: pipeline.gradients.parameters.contains(.temperature))
        }
        for key in rows.keys {
            var indices: [Int32] = [], ids: [[UInt8]?] = []
            for (part, position) in shape.positions.enumerated() {
                guard let position else { continue }
                let index = shape.id(key, part: part)
                indices.append(index)
                ids.append(entries[position].ids[Int(index)])
            }
            reduction.indices.append(indices)
            reduction.ids.append(ids)
        }
        if shape.hasTime { reduction.bins = rows.keys.map(shape.bin) }
        reduction.counts = rows.counts
        reduction.values = rows.values
        reduction.derivatives = pipeline.gradients.parameters.map { ($0, rows.derivatives[$0] ?? []) }

        try evaluateLoss(&reduction, loss: pipeline.loss, target: target)
        reduction.parameterGradients = reduction.derivatives.map { parameter, derivative in
            var total = 0.0
            for (g, d) in zip(reduction.gradient, derivative) where d != 0 { total += g * d }
            return (parameter, total)
        }
        return reduction
    }

    /// L over observed keys ∪ target keys, ∂L/∂v and the target gradient.
    private static func evaluateLoss(_ reduction: inout Reduction, loss: Pipeline.Loss, target: TargetTable?) throws {
        let roles = reduction.shape.roles
        let observedKeys = reduction.ids.map { ids in
            var key = IdKey()
            for (role, id) in zip(roles, ids) {
                if role == .user { key.user = id } else { key.item = id }
            }
            return key
        }
        // An OOV key has a null id, which no target key has: it takes target 0.
        let targets = observedKeys.map { target?.target(for: $0) ?? 0 }
        var targetOnlyKeys: [IdKey] = [], targetOnly: [Double] = []
        if let target {
            let observed = Set(observedKeys)
            for (key, value) in zip(target.keys, target.targets) where !observed.contains(key) {
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
        let a = 1 / denominator, b = s / denominator

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
