import Foundation

/// Which channels of a `KeyTable` hold which derivative. Channel 0 is always the value.
struct Channels: Sendable, Equatable {
    /// ∂v/∂λ, when `decay` is differentiated.
    var decay: Int?
    /// ∂v/∂h, when `bandwidth` is differentiated.
    var bandwidth: Int?

    var count: Int { 1 + (decay == nil ? 0 : 1) + (bandwidth == nil ? 0 : 1) }

    init(_ pipeline: Pipeline) {
        var next = 1
        if pipeline.gradients.parameters.contains(.decay) { decay = next; next += 1 }
        if pipeline.gradients.parameters.contains(.bandwidth) { bandwidth = next; next += 1 }
    }
}

/// Exponential time decay: w_i = b_i·e^(−λ·a_i) with λ in 1/day and a_i the age in days.
///
/// Partial sums are anchored at their own latest time, because the reference time (`end`) is
/// known only once the input has ended; moving a sum from anchor T to anchor A multiplies it by
/// e^(−λ(A − T)) and its derivative becomes e^(−λ(A − T))·(∂v/∂λ − (A − T)·v) — exact, so a
/// partial's place in the fold never changes the result beyond rounding, and the fold order is
/// fixed anyway.
struct Decay: Sendable {
    /// λ, in 1/day.
    let rate: Double
    /// The channel of ∂v/∂λ, if differentiated.
    let channel: Int?
    let reference: Pipeline.Decay.Reference

    static let secondsPerDay = 86_400.0

    init?(_ pipeline: Pipeline, channels: Channels) {
        guard let decay = pipeline.count.decay else { return nil }
        rate = Self.rate(halfLife: decay.halfLife)
        channel = channels.decay
        reference = decay.reference
    }

    /// λ in 1/day for a half-life in seconds, and back: λ = ln 2 · 86400 / half-life.
    static func rate(halfLife: Double) -> Double { Foundation.log(2) * secondsPerDay / halfLife }
    static func halfLife(rate: Double) -> Double { Foundation.log(2) * secondsPerDay / rate }

    /// The multiplier of one row: e^(−λ·age) for `age` in days.
    @inline(__always)
    func factor(age: Double) -> Double { Foundation.exp(-rate * age) }

    /// How sums change when moved between anchors.
    struct Shift {
        var factor: Double
        /// (A − T) in days.
        var days: Double
        var channel: Int?
        static let identity = Shift(factor: 1, days: 0, channel: nil)

        /// Whether it leaves every sum as it is, bit for bit (no decay: sums are copied).
        var isIdentity: Bool { factor == 1 && channel == nil }

        /// Adds `width` sums `source[from...]`, moved, to `target[at...]`.
        @inline(__always)
        func add(_ source: [Double], from: Int, width: Int, into target: inout [Double], at: Int) {
            for c in 0..<width {
                if c == channel {
                    // ∂v/∂λ moves with −Δ·v: read the source value before it is scaled.
                    target[at &+ c] += factor * (source[from &+ c] - days * source[from])
                } else {
                    target[at &+ c] += factor * source[from &+ c]
                }
            }
        }

        @inline(__always)
        func apply(to sums: inout [Double]) {
            if let channel {
                sums[channel] = factor * (sums[channel] - days * sums[0])
            }
            for c in sums.indices where c != channel { sums[c] *= factor }
        }
    }

    /// The shift that moves sums anchored at `from` to anchor `to`.
    func shift(from: Double, to: Double) -> Shift {
        let days = (to - from) / Self.secondsPerDay
        return Shift(factor: Foundation.exp(-rate * days), days: days, channel: channel)
    }

    /// Whether adding sums anchored at `incoming` to sums anchored at `current` would scale them
    /// up so much that they might overflow; then the current sums move to the later anchor.
    func mustReanchor(from current: Double, to incoming: Double) -> Bool {
        rate * (incoming - current) / Self.secondsPerDay > 300
    }
}
