import Foundation

/// Embedding bags: for each user g, bag_g = Σ_k C[g,k]·E[k], where C[g,k] is the weighted count
/// of the user's rows on item k and E the item embedding table (K × d).
///
/// The loss applies to the bags: `sum` (L = Σ_g Σ_d bag_gd, so G_g = 1) or `mse`
/// (L = ½ Σ_g ‖bag_g − y_g‖², y from the target, 0 for a user it lacks). Gradients: G_g = ∂L/∂bag_g;
/// ∂E[k] = Σ_g C[g,k]·G_g (for `sum`, the weighted counts: the gradient of an embedding sum is
/// the bincount); ∂L/∂λ = Σ_{g,k} ∂C[g,k]/∂λ·⟨G_g, E[k]⟩. Everything is summed in the order of
/// the sorted pairs, so the result is the same for any number of workers.
struct EmbeddingBags {
    let dim: Int
    /// The users with a bag, ascending.
    var groups: [Int32] = []
    /// bag_g and G_g, `dim` per user.
    var bags: [Double] = []
    var bagGradients: [Double] = []
    /// ∂L/∂E[k] for the items some bag touches (ascending), `dim` per item.
    var items: [Int32] = []
    var itemGradients: [Double] = []
    var loss = 0.0
    /// ∂L/∂λ, when the pairs carry ∂C/∂λ.
    var decayGradient: Double?

    /// - Parameters:
    ///   - pairs: (user index, item index, C, ∂C/∂λ) sorted by user then item.
    ///   - table: E[k] for each item index k.
    ///   - target: y per user id, for `mse`.
    init(pairs: [(user: Int32, item: Int32, weight: Double, decay: Double?)], table: EmbeddingTable,
         userIds: (Int32) -> ArraySlice<UInt8>?, kind: Pipeline.Loss.Kind, target: KeyedValues?) {
        dim = table.dim
        var row = 0
        var tableGradient = [Double](repeating: 0, count: table.count * dim)
        var touched = [Bool](repeating: false, count: table.count)
        var decay: Double? = pairs.first?.decay == nil ? nil : 0
        var observed = Set<IdKey>()
        while row < pairs.count {
            let user = pairs[row].user
            var bag = [Double](repeating: 0, count: dim)
            var end = row
            while end < pairs.count && pairs[end].user == user {
                for d in 0..<dim { bag[d] += pairs[end].weight * table.value(pairs[end].item, d) }
                end += 1
            }
            var key = IdKey()
            key.user = userIds(user)
            observed.insert(key)
            var gradient = [Double](repeating: 1, count: dim)
            if kind == .mse {
                let y = target?.values(for: key).map { Array($0) } ?? [Double](repeating: 0, count: dim)
                gradient = (0..<dim).map { bag[$0] - y[$0] }
                loss += 0.5 * gradient.reduce(0) { $0 + $1 * $1 }
            } else {
                loss += bag.reduce(0, +)
            }
            for pair in pairs[row..<end] {
                let base = Int(pair.item) * dim
                for d in 0..<dim { tableGradient[base + d] += pair.weight * gradient[d] }
                touched[Int(pair.item)] = true
                if let dC = pair.decay {
                    var dot = 0.0
                    for d in 0..<dim { dot += gradient[d] * table.value(pair.item, d) }
                    decay! += dC * dot
                }
            }
            groups.append(user)
            bags += bag
            bagGradients += gradient
            row = end
        }
        if kind == .mse, let target {
            // Users in the target without a bag: bag 0, so ½‖y‖².
            for key in target.keys where !observed.contains(key) {
                loss += 0.5 * target.values(for: key)!.reduce(0) { $0 + $1 * $1 }
            }
        }
        items = touched.indices.filter { touched[$0] }.map(Int32.init)
        itemGradients = items.flatMap { tableGradient[Int($0) * dim ..< (Int($0) + 1) * dim] }
        decayGradient = decay
    }
}

/// The item embedding table E: rows from a table file where it has the item, else a seeded
/// N(0, 1/d) initialisation that depends only on the seed and the item's index.
struct EmbeddingTable: Sendable {
    let dim: Int
    /// d values per item index, back to back.
    let values: [Double]

    /// A table of `dim` values per item index, back to back.
    init(dim: Int, values: [Double]) {
        self.dim = dim
        self.values = values
    }

    /// - Parameters:
    ///   - ids: the id of each item index (nil for the OOV bucket).
    ///   - file: rows keyed by `item_id`, columns e0..e{d−1}.
    init(dim: Int, seed: UInt64, ids: [ArraySlice<UInt8>?], file: KeyedValues?) {
        var values: [Double] = []
        values.reserveCapacity(ids.count * dim)
        for (index, id) in ids.enumerated() {
            if let id, let row = file?.values(for: IdKey(user: nil, item: id)) {
                values += row
            } else {
                for component in 0..<dim { values.append(Self.initial(seed: seed, index: index, component: component, dim: dim)) }
            }
        }
        self.init(dim: dim, values: values)
    }

    /// The number of items.
    var count: Int { values.count / dim }

    /// E[k][component].
    @inline(__always)
    func value(_ index: Int32, _ component: Int) -> Double { values[Int(index) * dim + component] }

    /// The seeded initial value of E[index][component]: a standard normal from Box–Muller on two
    /// uniforms drawn by a counter-based generator, scaled by 1/√d. With n = index·d + component,
    /// u_j = (mix64(seed + (2n + j + 1)·φ) >> 11 + ½)·2⁻⁵³ for j = 0, 1 (φ = 0x9E3779B97F4A7C15,
    /// mix64 the MurmurHash3 finaliser) and z = √(−2 ln u₀)·cos(2π u₁).
    static func initial(seed: UInt64, index: Int, component: Int, dim: Int) -> Double {
        let n = UInt64(index) &* UInt64(dim) &+ UInt64(component)
        func uniform(_ j: UInt64) -> Double {
            let bits = mix64(seed &+ (2 &* n &+ j &+ 1) &* 0x9E37_79B9_7F4A_7C15)
            return (Double(bits >> 11) + 0.5) * 0x1p-53
        }
        let z = Foundation.sqrt(-2 * Foundation.log(uniform(0))) * Foundation.cos(2 * Double.pi * uniform(1))
        return z / Foundation.sqrt(Double(dim))
    }
}
