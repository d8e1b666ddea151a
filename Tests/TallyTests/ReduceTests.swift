import Foundation
import Testing
@testable import Tally

@Suite struct LossTests {
    @Test func digammaMatchesKnownValues() {
        let eulerGamma = 0.57721566490153286
        #expect(abs(digamma(1) + eulerGamma) < 1e-14)
        #expect(abs(digamma(0.5) - (-eulerGamma - 2 * log(2.0))) < 1e-14)
        #expect(abs(digamma(10) - 2.2517525890667211) < 1e-14)
        #expect(abs(digamma(1e6) - 13.815510057964275) < 1e-12)
    }

    @Test func logSoftmaxDoesNotOverflowOnLargeLogits() {
        let logQ = logSoftmax([1000, 1000])
        #expect(logQ.allSatisfy { abs($0 + log(2.0)) < 1e-12 })
    }

    /// Over many keys whose logits are alike, the shifted exponentials are all one value rounded
    /// alike: a plain sum drifts by thousands of roundings (a log-normaliser wrong by 10⁻¹²,
    /// which moved `gradcheck`'s finite differences of L past its tolerance on the README's
    /// example). The compensated sum stays within a rounding or two of 1 + (K − 1)·e^(−h).
    @Test(arguments: [1e-3, 0.37, 5.0])
    func logSoftmaxOverManyAlikeLogitsIsAccurate(_ h: Double) {
        let count = 20_000
        let logQ = logSoftmax([h] + Array(repeating: 0, count: count - 1))
        let expected = -(h + log(1 + Double(count - 1) * exp(-h)))
        #expect(abs(logQ[1] - expected) <= 4 * expected.ulp, "\(logQ[1]) against \(expected)")
        #expect(abs(logQ[0] - (h + expected)) <= 4 * expected.ulp)
    }

    /// Central finite differences of L with respect to each v_k agree with ∂L/∂v_k.
    @Test(arguments: [Pipeline.Loss.Kind.sum, .mse, .poissonNLL, .multinomialNLL, .kl])
    func theValueGradientMatchesFiniteDifferences(_ kind: Pipeline.Loss.Kind) throws {
        let values = [3.0, 0.5, 7.25, 1.0]
        let counts: [Int64] = [3, 1, 7, 1]
        let targets = [0.2, -1.0, 0.7, 0.0]
        let targetOnly = [0.3]
        let evaluation = try kind.evaluate(values: values, counts: counts, targets: targets, targetOnly: targetOnly)
        for k in values.indices {
            let h = 1e-6
            var up = values, down = values
            up[k] += h
            down[k] -= h
            let lUp = try kind.evaluate(values: up, counts: counts, targets: targets, targetOnly: targetOnly).loss
            let lDown = try kind.evaluate(values: down, counts: counts, targets: targets, targetOnly: targetOnly).loss
            let numeric = (lUp - lDown) / (2 * h)
            #expect(abs(numeric - evaluation.valueGradient[k]) <= 1e-6 * max(1, abs(numeric)), "\(kind) k=\(k)")
        }
    }

    /// … and with respect to each target θ_k, where the loss has a target gradient.
    @Test(arguments: [Pipeline.Loss.Kind.poissonNLL, .multinomialNLL, .kl])
    func theTargetGradientMatchesFiniteDifferences(_ kind: Pipeline.Loss.Kind) throws {
        let values = [3.0, 0.5, 7.25]
        let counts: [Int64] = [3, 1, 7]
        let targets = [0.2, -1.0, 0.7]
        let targetOnly = [0.3, -2.0]
        let gradient = try #require(try kind.evaluate(values: values, counts: counts, targets: targets, targetOnly: targetOnly).targetGradient)
        let all = targets + targetOnly
        for k in all.indices {
            let h = 1e-6
            func loss(_ shift: Double) throws -> Double {
                var shifted = all
                shifted[k] += shift
                return try kind.evaluate(values: values, counts: counts, targets: Array(shifted[..<3]), targetOnly: Array(shifted[3...])).loss
            }
            let numeric = (try loss(h) - loss(-h)) / (2 * h)
            #expect(abs(numeric - gradient[k]) <= 1e-6 * max(1, abs(numeric)), "\(kind) k=\(k)")
        }
    }

    /// No target table (nil targets) is a target of 0 for every observed key.
    @Test(arguments: [Pipeline.Loss.Kind.sum, .mse, .poissonNLL, .multinomialNLL, .kl])
    func noTargetsAreTargetsOfZero(_ kind: Pipeline.Loss.Kind) throws {
        let values = [3.0, 0.5, 7.25], counts: [Int64] = [3, 1, 7]
        let none = try kind.evaluate(values: values, counts: counts, targets: nil, targetOnly: [])
        let zeros = try kind.evaluate(values: values, counts: counts, targets: [0, 0, 0], targetOnly: [])
        #expect(none.loss == zeros.loss && none.valueGradient == zeros.valueGradient)
        #expect(none.targetGradient == zeros.targetGradient)
    }

    @Test func klGivesMinusInfinityToAKeyWithRowsButNoWeight() throws {
        let evaluation = try Pipeline.Loss.Kind.kl.evaluate(values: [2, 0], counts: [2, 1], targets: [0, 0], targetOnly: [])
        #expect(evaluation.valueGradient[1] == -.infinity)
        #expect(abs(evaluation.loss - log(2.0)) < 1e-15)
    }

    @Test func klWithoutAnyWeightIsBadInput() {
        #expect(throws: TallyError.self) {
            try Pipeline.Loss.Kind.kl.evaluate(values: [0], counts: [1], targets: [0], targetOnly: [])
        }
    }
}
