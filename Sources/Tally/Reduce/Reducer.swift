/// The counts of the whole run under their final indices, with the loss and its gradients.
struct Reduction {
    let shape: KeyShape
    /// Per output row (sorted by key indices): the final index of each key role.
    var indices: [[Int32]]
    /// Per output row: the id of each key role (nil for the OOV bucket).
    var ids: [[[UInt8]?]]
    var counts: [Int64]
    var values: [Double]
    /// ∂L/∂v_k per output row.
    var gradient: [Double]
    var loss: Double
    /// The target gradient: keys (observed ∪ target) sorted by id, and ∂L/∂θ_k.
    var targetGradient: (keys: [IdKey], gradient: [Double])?
    /// The vocabulary table of each tokenized role.
    var vocabularies: [(role: Role, entries: VocabularyEntries)]
    /// Kept rows dropped because an id was out of vocabulary with `oov: drop`.
    var droppedRows: Int64
}

/// Turns the folded run into final indices, then evaluates the loss (DESIGN §3).
enum Reducer {
    static func reduce(_ fold: Fold, loss: Pipeline.Loss, target: TargetTable?) throws -> Reduction {
        let shape = fold.shape
        let mappings = try fold.vocabularies.map { try $0.finalize() }

        // Provisional → final keys; ids mapped into the OOV bucket merge their sums here.
        var final = KeyTable(capacity: fold.runKeys.count)
        var droppedRows: Int64 = 0
        let run = fold.runKeys
        for row in 0..<run.count {
            var dropped = false
            let key = shape.map(run.keys[row]) { part, id in
                let index = mappings[shape.positions[part]].finalIndex[Int(id)]
                if index == VocabularyMapping.dropped { dropped = true }
                return index
            }
            if dropped {
                droppedRows += run.counts[row]
            } else {
                final.add(key: key, count: run.counts[row], value: run.values[row])
            }
        }
        let order = (0..<final.count).sorted { final.keys[$0] < final.keys[$1] }

        let entries = fold.vocabularies.indices.map { fold.vocabularies[$0].entries(mappings[$0]) }
        var reduction = Reduction(shape: shape, indices: [], ids: [], counts: [], values: [], gradient: [], loss: 0,
                                  targetGradient: nil, vocabularies: [], droppedRows: droppedRows)
        for row in order {
            let indices = shape.roles.indices.map { shape.unpack(final.keys[row], part: $0) }
            reduction.indices.append(indices)
            reduction.ids.append(indices.enumerated().map { part, index in
                entries[shape.positions[part]].ids[Int(index)]
            })
            reduction.counts.append(final.counts[row])
            reduction.values.append(final.values[row])
        }
        reduction.vocabularies = zip(fold.vocabularies, entries).map { ($0.role, $1) }

        // The loss over observed keys ∪ target keys.
        let observedKeys = reduction.ids.map { idKey($0, roles: shape.roles) }
        let observed = Set(observedKeys)
        // An OOV key has a null id, which no target key has: it takes target 0.
        let targets = observedKeys.map { target?.target(for: $0) ?? 0 }
        var targetOnlyKeys: [IdKey] = [], targetOnly: [Double] = []
        if let target {
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
        return reduction
    }

    private static func idKey(_ ids: [[UInt8]?], roles: [Role]) -> IdKey {
        var key = IdKey()
        for (role, id) in zip(roles, ids) {
            if role == .user { key.user = id } else { key.item = id }
        }
        return key
    }
}
