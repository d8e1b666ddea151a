import Foundation

/// Soft time bins: the weights a row at position x (in bins) gives to the bins near it.
///
/// Bin j has centre j + ½; the raw kernel is φ(u) with u = (x − centre)/h (hard: the bin ⌊x⌋
/// alone; triangular max(0, 1 − |u|); epanechnikov max(0, 1 − u²); gaussian e^(−u²/2) for
/// |u| ≤ 4). Weights are normalised to sum to 1, so every row adds exactly its weight to its
/// item; `derivatives` are d/dh of the normalised weights. Cost: O(bins touched).
struct Kernel: Sendable {
    let shape: Pipeline.TimeBins.Kernel
    /// h, in bins.
    let bandwidth: Double
    /// The width of a bin and the origin, in seconds.
    let width: Double
    let origin: Double

    init(_ bins: Pipeline.TimeBins) {
        shape = bins.kernel
        bandwidth = bins.bandwidth
        width = bins.width
        origin = bins.origin
    }

    /// x = (t − origin)/width.
    @inline(__always)
    func position(_ time: Double) -> Double { (time - origin) / width }

    /// How far from x, in bins, the kernel reaches.
    var reach: Double {
        switch shape {
        case .hard: 0
        case .triangular, .epanechnikov: bandwidth
        case .gaussian: 4 * bandwidth
        }
    }

    /// Fills `bins`, `weights` and `derivatives` (d/dh) for a row at `x`; returns the hard bin ⌊x⌋.
    @discardableResult
    func spread(_ x: Double, bins: inout [Int64], weights: inout [Double], derivatives: inout [Double]) -> Int64 {
        bins.removeAll(keepingCapacity: true)
        weights.removeAll(keepingCapacity: true)
        derivatives.removeAll(keepingCapacity: true)
        let hard = Int64(Foundation.floor(x))
        if shape == .hard {
            bins.append(hard); weights.append(1); derivatives.append(0)
            return hard
        }
        // Centres j + ½ with |x − j − ½| ≤ reach, and one more bin on each side: the range is
        // computed in a different order of operations than u, so `raw(u)` alone decides.
        let first = Int64(Foundation.ceil(x - reach - 0.5)) - 1, last = Int64(Foundation.floor(x + reach - 0.5)) + 1
        var total = 0.0, totalDerivative = 0.0
        var j = first
        while j <= last {
            let u = (x - (Double(j) + 0.5)) / bandwidth
            let (phi, dPhi) = raw(u)
            if phi > 0 {
                bins.append(j); weights.append(phi); derivatives.append(dPhi)
                total += phi
                totalDerivative += dPhi
            }
            j += 1
        }
        // Normalise: κ = φ/S, dκ/dh = (φ'·S − φ·S')/S².
        for i in weights.indices {
            let phi = weights[i]
            derivatives[i] = (derivatives[i] * total - phi * totalDerivative) / (total * total)
            weights[i] = phi / total
        }
        return hard
    }

    /// φ(u) and dφ/dh at fixed x (u = d/h, so du/dh = −u/h).
    @inline(__always)
    private func raw(_ u: Double) -> (Double, Double) {
        let h = bandwidth
        switch shape {
        case .hard:
            return (0, 0)
        case .triangular:
            let a = Swift.abs(u)
            return a < 1 ? (1 - a, a / h) : (0, 0)
        case .epanechnikov:
            return u * u < 1 ? (1 - u * u, 2 * u * u / h) : (0, 0)
        case .gaussian:
            guard Swift.abs(u) <= 4 else { return (0, 0) }
            let phi = Foundation.exp(-0.5 * u * u)
            return (phi, u * u * phi / h)
        }
    }
}
