import Foundation

/// A loss on the value vector v and its gradients (DESIGN §3).
///
/// Every loss sums over the union of the observed keys and the target's keys; a key that was
/// not observed has v = 0, a key absent from the target has target 0.
struct LossEvaluation {
    /// L.
    var loss: Double
    /// ∂L/∂v_k for each observed key, in the order given.
    var valueGradient: [Double]
    /// ∂L/∂θ_k for each observed key then each target-only key; nil when the loss has none.
    var targetGradient: [Double]?
}

extension Pipeline.Loss.Kind {
    /// Evaluates the loss.
    ///
    /// - Parameters:
    ///   - values: v_k of the observed keys.
    ///   - counts: the rows of each observed key (only `kl` looks at them: a key with rows but
    ///     v_k = 0 has gradient −∞).
    ///   - targets: the target (logit, log-rate or value) of each observed key, 0 when absent;
    ///     nil when there is no target table (every target 0).
    ///   - targetOnly: the targets of keys in the target table that were not observed.
    func evaluate(values: [Double], counts: [Int64], targets: [Double]?, targetOnly: [Double]) throws -> LossEvaluation {
        // The observed keys, then the target's own (v = 0 there); made only by the losses that
        // read them, not by `sum` (each is as long as the output).
        func everyKey() -> (values: [Double], targets: [Double]) {
            (values + [Double](repeating: 0, count: targetOnly.count),
             (targets ?? [Double](repeating: 0, count: values.count)) + targetOnly)
        }
        switch self {
        case .sum:
            return LossEvaluation(loss: orderedSum(values), valueGradient: .init(repeating: 1, count: values.count))

        case .mse:
            let (allValues, allTargets) = everyKey()
            var terms = [Double](), gradient = [Double]()
            for k in allValues.indices {
                let residual = allValues[k] - allTargets[k]
                terms.append(0.5 * residual * residual)
                if k < values.count { gradient.append(residual) }
            }
            return LossEvaluation(loss: orderedSum(terms), valueGradient: gradient)

        case .poissonNLL:
            let (allValues, allTargets) = everyKey()
            var terms = [Double](), gradient = [Double](), targetGradient = [Double]()
            for k in allValues.indices {
                let v = allValues[k], theta = allTargets[k]
                let rate = Foundation.exp(theta)
                terms.append(rate - v * theta + Foundation.lgamma(v + 1))
                if k < values.count { gradient.append(-theta + digamma(v + 1)) }
                targetGradient.append(rate - v)
            }
            return LossEvaluation(loss: orderedSum(terms), valueGradient: gradient, targetGradient: targetGradient)

        case .multinomialNLL:
            let (allValues, allTargets) = everyKey()
            let logQ = logSoftmax(allTargets)
            let total = orderedSum(allValues)
            var terms = [Double](), targetGradient = [Double]()
            for k in allValues.indices {
                terms.append(allValues[k] == 0 ? 0 : -allValues[k] * logQ[k])
                targetGradient.append(total * Foundation.exp(logQ[k]) - allValues[k])
            }
            let gradient = (0..<values.count).map { -logQ[$0] }
            return LossEvaluation(loss: orderedSum(terms), valueGradient: gradient, targetGradient: targetGradient)

        case .kl:
            let (allValues, allTargets) = everyKey()
            let logQ = logSoftmax(allTargets)
            let total = orderedSum(allValues)
            guard total > 0 else {
                throw TallyError(.badInput, stage: .reduce, "the kl loss needs a positive total weight (Σ v = \(total))")
            }
            var terms = [Double](), targetGradient = [Double]()
            for k in allValues.indices {
                let p = allValues[k] / total
                terms.append(p == 0 ? 0 : p * (Foundation.log(p) - logQ[k]))
                targetGradient.append(Foundation.exp(logQ[k]) - p)
            }
            let loss = orderedSum(terms)
            let gradient = (0..<values.count).map { k -> Double in
                let p = values[k] / total
                if p == 0 { return counts[k] > 0 ? -.infinity : 0 }
                return (Foundation.log(p) - logQ[k] - loss) / total
            }
            return LossEvaluation(loss: loss, valueGradient: gradient, targetGradient: targetGradient)
        }
    }
}

/// The sum of `terms`, compensated (Neumaier) so its error stays near one rounding of the
/// result however many terms there are, and taken from first to last: one fixed order, so the
/// same bytes every time.
func orderedSum(_ terms: [Double]) -> Double {
    var sum = 0.0, compensation = 0.0
    for term in terms {
        let next = sum + term
        if Swift.abs(sum) >= Swift.abs(term) {
            compensation += (sum - next) + term
        } else {
            compensation += (term - next) + sum
        }
        sum = next
    }
    // An infinite term makes the compensation NaN (∞ − ∞): the sum is that infinity.
    return sum.isFinite ? sum + compensation : sum
}

/// log softmax(θ), through log-sum-exp so that large logits do not overflow. The exponentials
/// are summed with compensation: over many alike logits a plain sum's roundings add up (the
/// log-normaliser of 20k was off by 4·10⁻¹³, 60 roundings) and move every log-probability as
/// much, which a finite difference of the loss, `gradcheck`'s, sees.
func logSoftmax(_ logits: [Double]) -> [Double] {
    guard let largest = logits.max(), largest.isFinite else {
        return logits.map { _ in -Foundation.log(Double(logits.count)) }
    }
    let sum = orderedSum(logits.map { Foundation.exp($0 - largest) })
    let logNormaliser = largest + Foundation.log(sum)
    return logits.map { $0 - logNormaliser }
}

/// ψ(x), the digamma function: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x ≥ 10, then the
/// asymptotic series to the x⁻¹² term (truncation error below 1e-16); reflection for x < 0.
func digamma(_ x: Double) -> Double {
    guard x.isFinite else { return x.isNaN ? .nan : (x > 0 ? .infinity : .nan) }
    if x <= 0 && x == x.rounded() { return .nan }
    var x = x
    var result = 0.0
    if x < 0 {
        // Reflection: ψ(1 − x) − ψ(x) = π cot(πx).
        result -= Double.pi / Foundation.tan(Double.pi * x)
        x = 1 - x
    }
    while x < 10 {
        result -= 1 / x
        x += 1
    }
    let inverse = 1 / x, inverse2 = inverse * inverse
    let series = inverse2 * (1.0 / 12 - inverse2 * (1.0 / 120 - inverse2 * (1.0 / 252 - inverse2 * (1.0 / 240 - inverse2 * (1.0 / 132 - inverse2 * (691.0 / 32760))))))
    return result + Foundation.log(x) - 0.5 * inverse - series
}
