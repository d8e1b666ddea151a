import Foundation

/// ∂L/∂b_i for any kept row, once the run is reduced (DESIGN §3, per-row gradients):
/// e^(−λ a_i)·g_k(i) for hard counts; e^(−λ a_i)(b·Σ_k g_k + (a − b)·g_k(i)) with smoothing;
/// e^(−λ a_i)·Σ_j κ_ij·g_(k(i), j) with time bins; e^(−λ a_i)·⟨G_g, E[k(i)]⟩ with embedding bags.
/// Read-only and shared by the workers of the second pass.
struct RowGradients: Sendable {
    /// Maps a row's ids to final indices.
    struct FinalIds: Sendable {
        let table: IdTable
        let finalIndex: [Int32]

        /// The final index of `id`, or nil when the id was dropped (or never seen).
        func index(_ id: UnsafeRawBufferPointer) -> Int32? {
            guard let provisional = table.find(id) else { return nil }
            let index = finalIndex[Int(provisional)]
            return index == VocabularyMapping.dropped ? nil : index
        }
    }

    /// One per tokenized role, in `RowRules.roles` order.
    let ids: [FinalIds]
    /// The key of `counts.parquet`.
    let shape: KeyShape
    /// ∂L/∂v_k by output key (channel 0).
    let gradients: KeyTable
    /// With smoothing: (a − b) and b·Σ_k g_k.
    let smoothing: (scale: Double, offset: Double)?
    let decay: Decay?
    /// The time decay ages are measured from.
    let reference: Double
    let kernel: Kernel?
    /// With embedding bags: the item table, G_g by user index (`dim` each), and the positions of
    /// the user and item roles.
    let embedding: (table: EmbeddingTable, bagGradients: [Double], user: Int, item: Int)?

    /// The row's final key indices (by output role), its hard time bin, w_i and ∂L/∂b_i, given
    /// the final index of each tokenized role's id.
    func row(finalIds: [Int32], time: Double?, baseWeight: Double) -> (indices: [Int32], bin: Int64?, weight: Double, gradient: Double) {
        let factor = decay.map { $0.factor(age: (reference - time!) / Decay.secondsPerDay) } ?? 1
        let indices = shape.positions.compactMap { $0.map { finalIds[$0] } }
        if let embedding {
            let user = Int(finalIds[embedding.user]), item = finalIds[embedding.item]
            let dim = embedding.table.dim
            var dot = 0.0
            for d in 0..<dim { dot += embedding.bagGradients[user * dim + d] * embedding.table.value(item, d) }
            return (indices, nil, baseWeight * factor, factor * dot)
        }
        let first = UInt32(bitPattern: indices[0])
        if let kernel {
            var bins: [Int64] = [], weights: [Double] = [], derivatives: [Double] = []
            let hard = kernel.spread(kernel.position(time!), bins: &bins, weights: &weights, derivatives: &derivatives)
            var total = 0.0
            for (j, kappa) in zip(bins, weights) { total += kappa * gradient(shape.pack(first, KeyShape.storedBin(j)!)) }
            return (indices, hard, baseWeight * factor, factor * total)
        }
        let second = indices.count > 1 ? UInt32(bitPattern: indices[1]) : 0
        var g = gradient(shape.pack(first, second))
        if let smoothing { g = smoothing.offset + smoothing.scale * g }
        return (indices, nil, baseWeight * factor, factor * g)
    }

    private func gradient(_ key: UInt64) -> Double {
        gradients.find(key).map { gradients.sum($0, 0) } ?? 0
    }
}
