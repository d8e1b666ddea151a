import Foundation

/// `tally gradcheck`: every analytic gradient against central finite differences, on the first
/// rows of the input.
///
/// Checked: each differentiated scalar parameter (decay, temperature, bandwidth), every target
/// logit (up to `maxTargets`, evenly spread), a sample of per-row base weights and a sample of
/// embedding entries. The finite differences are central, refined by one Richardson step:
/// R(h) = (4·D(h/2) − D(h))/3, error O(h⁴). The numeric derivative is R(h/2) with
/// h = 10⁻²·max(|x|, 1), large enough that rounding in L stays far below the tolerance, where
/// R(h/2) and R(h) agree within the tolerance. Where they do not, the loss is not smooth within h
/// of x (a time-bin kernel's edge or the Gaussian's cut-off at 4h, where a row leaves a bin, lies
/// there), and h shrinks tenfold, down to 10⁻⁷·max(|x|, 1), until they agree. The error of a
/// family is normwise:
/// max |analytic − numeric| over its entries divided by the largest |analytic| or |numeric| (for
/// a scalar parameter, its plain relative error). A derivative so small that moving x by
/// max(|x|, 1) would change L by less than 10⁻⁶·|L| is below what a finite difference can
/// resolve, so the divisor is never less than that scale, 10⁻⁶·|L|/max(|x|, 1).
public struct GradientCheck {
    /// The result for one kind of parameter.
    public struct Line: Sendable {
        public var name: String
        public var checked: Int
        public var largestError: Double
    }

    public struct Report: Sendable {
        public var rowsRead: Int
        public var loss: Double
        public var lines: [Line]
        public var tolerance: Double
        public var passed: Bool { lines.allSatisfy { $0.largestError <= tolerance } }
    }

    public let pipeline: Pipeline
    public let rows: Int
    public let tolerance: Double
    /// How many target logits, row weights and embedding entries at most.
    public var maxTargets = 200
    public var sampleSize = 10

    public init(pipeline: Pipeline, rows: Int, tolerance: Double) {
        var pipeline = pipeline
        // Nothing is written: bad rows are counted, not quarantined, and per-row gradients are
        // collected in memory.
        if pipeline.input.badRows.policy == .quarantine { pipeline.input.badRows.policy = .skip }
        pipeline.gradients.perEvent = true
        self.pipeline = pipeline
        self.rows = rows
        self.tolerance = tolerance
    }

    public func run() throws -> Report {
        let inputs = try RunInputs(pipeline)
        let (fold, reduction) = try evaluate(pipeline, inputs)
        // What `run` refuses (a value past the largest double, a loss undefined for the values)
        // has no gradient to check either.
        try reduction.requireDefined(loss: pipeline.loss.kind.value)
        var lines: [Line] = []

        for (parameter, analytic) in reduction.parameterGradients {
            let theta = Self.value(of: parameter, in: pipeline)
            let numeric = try derivative(at: theta, floor: floor(reduction, at: theta)) { value in
                try evaluate(Self.setting(parameter, to: value, in: pipeline), inputs).1.loss
            }
            lines.append(Line(name: parameter.rawValue, checked: 1,
                              largestError: Self.error([(analytic, numeric)], floor: floor(reduction, at: theta))))
        }
        if let targets = reduction.targetGradient {
            // The OOV bucket has no id, so no target can name it.
            let keys = (0..<targets.count).map { i -> IdKey in
                switch targets.key(i) {
                case .observed(let row): reduction.idKey(row: row)
                case .targetOnly(let id): id
                }
            }
            let roles = reduction.shape.roles
            let named = keys.indices.filter { i in roles.allSatisfy { keys[i].id(of: $0) != nil } }
            let chosen = Self.spread(named, count: maxTargets)
            let table = inputs.target ?? KeyedValues(columns: [pipeline.loss.targetColumn])
            let pairs = try chosen.map { i in
                let key = keys[i]
                let numeric = try derivative(at: table.value(for: key) ?? 0, floor: floor(reduction, at: 0)) { value in
                    try Reducer.loss(of: reduction, loss: pipeline.loss, target: table.replacing(key, with: [value]))
                }
                return (targets.gradient[i], numeric)
            }
            lines.append(Line(name: "target logits", checked: chosen.count,
                              largestError: Self.error(pairs, floor: floor(reduction, at: 0))))
        }
        try lines.append(checkRowWeights(inputs, fold: fold, reduction: reduction))
        if let embeddingLine = try checkEmbedding(inputs, fold: fold, reduction: reduction) { lines.append(embeddingLine) }
        return Report(rowsRead: fold.runStats.read, loss: reduction.loss, lines: lines, tolerance: tolerance)
    }

    // MARK: Per-row weights and embedding entries

    private func checkRowWeights(_ inputs: RunInputs, fold: Fold, reduction: Reduction) throws -> Line {
        let collector = EventGradientCollector()
        try Passes.gradients(pipeline, inputs, model: Reducer.rowGradients(reduction, fold: fold, pipeline: pipeline),
                             sink: collector, settings())
        let chosen = Self.spread(Array(collector.rows.indices), count: sampleSize)
        let scale = chosen.map { Self.value(ofRow: collector.rows[$0]) }.max() ?? 1
        let pairs = try chosen.map { i in
            let row = collector.rows[i]
            let numeric = try derivative(at: 0, floor: floor(reduction, at: scale)) { delta in
                try evaluate(pipeline, inputs, weightDeltas: [row.path: [row.line: delta]]).1.loss
            }
            return (row.gradient, numeric)
        }
        return Line(name: "row weights", checked: chosen.count, largestError: Self.error(pairs, floor: floor(reduction, at: scale)))
    }

    private func checkEmbedding(_ inputs: RunInputs, fold: Fold, reduction: Reduction) throws -> Line? {
        guard let bags = reduction.bags, let table = reduction.embeddingTable,
              let items = reduction.vocabularies.first(where: { $0.role == .item })?.entries else { return nil }
        let entries = bags.items.indices.flatMap { i in (0..<bags.dim).map { (i, $0) } }
            .filter { items.hasId(Int(bags.items[$0.0])) }
        let chosen = Self.spread(Array(entries.indices), count: sampleSize)
        let pairs = try chosen.map { e in
            let (i, component) = entries[e]
            let item = bags.items[i]
            let key = IdKey(user: nil, item: items.id(Int(item)))
            let row = (0..<bags.dim).map { table.value(item, $0) }
            let file = inputs.embeddingFile ?? KeyedValues(columns: (0..<bags.dim).map { "e\($0)" })
            let numeric = try derivative(at: row[component], floor: floor(reduction, at: 1)) { value in
                var perturbed = row
                perturbed[component] = value
                return try Reducer.reduce(fold, counts: fold.runKeys, pipeline: pipeline, target: inputs.target,
                                          embeddingFile: file.replacing(key, with: perturbed)).loss
            }
            return (bags.itemGradients[i * bags.dim + component], numeric)
        }
        return Line(name: "embedding entries", checked: chosen.count, largestError: Self.error(pairs, floor: floor(reduction, at: 1)))
    }

    // MARK: Evaluation

    private func settings(weightDeltas: [String: [Int: Double]] = [:]) -> Passes.Settings {
        var settings = Passes.Settings(workers: 1, batchBytes: 1 << 20, rowLimit: rows, progress: nil, timings: StageTimings())
        settings.weightDeltas = weightDeltas
        return settings
    }

    /// The counting pass and the reduction on the first `rows` rows.
    private func evaluate(_ pipeline: Pipeline, _ inputs: RunInputs,
                          weightDeltas: [String: [Int: Double]] = [:]) throws -> (Fold, Reduction) {
        let ledger = try BadRowLedger(policy: pipeline.input.badRows, quarantinePath: nil)
        let fold = try Passes.count(pipeline, inputs, ledger: ledger, settings(weightDeltas: weightDeltas))
        return (fold, try Reducer.reduce(fold, counts: fold.runKeys, pipeline: pipeline, target: inputs.target, embeddingFile: inputs.embeddingFile))
    }

    /// A central difference of `loss` at `x`, with one Richardson step, at the largest step at
    /// which the estimate is stable (see the type's description): R(h/2) within the tolerance of
    /// R(h), relative to the larger of |R(h/2)| and `floor` (rounding alone stays far below it, a
    /// kink goes far above). Where no step is, the estimate that differs least from the coarser.
    private func derivative(at x: Double, floor: Double, _ loss: (Double) throws -> Double) throws -> Double {
        func central(_ step: Double) throws -> Double {
            let up = try loss(x + step), down = try loss(x - step)
            return (up - down) / (2 * step)
        }
        var h = 1e-2 * max(Swift.abs(x), 1)
        var best: (estimate: Double, difference: Double)?
        for _ in 0..<6 {
            let coarse = try central(h), fine = try central(h / 2), finer = try central(h / 4)
            let estimate = (4 * finer - fine) / 3
            let difference = Swift.abs(estimate - (4 * fine - coarse) / 3)
            // A NaN is returned as it is, for the check to fail on it.
            if !(difference > tolerance * max(Swift.abs(estimate), floor)) { return estimate }
            if best == nil || difference < best!.difference { best = (estimate, difference) }
            h /= 10
        }
        return best!.estimate
    }

    /// The smallest derivative a finite difference resolves around `x`: 10⁻⁶·|L|/max(|x|, 1).
    private func floor(_ reduction: Reduction, at x: Double) -> Double {
        1e-6 * Swift.abs(reduction.loss) / max(Swift.abs(x), 1)
    }

    /// The normwise relative error of (analytic, numeric) pairs, with a divisor of at least `floor`.
    static func error(_ pairs: [(Double, Double)], floor: Double) -> Double {
        var difference = 0.0, scale = floor
        for (analytic, numeric) in pairs {
            if analytic.isNaN || numeric.isNaN { return .infinity }
            if analytic == numeric { continue }
            difference = max(difference, Swift.abs(analytic - numeric))
            scale = max(scale, Swift.abs(analytic), Swift.abs(numeric))
        }
        return difference == 0 ? 0 : difference / scale
    }

    /// The size of a collected row's weight, which sets its resolution floor.
    static func value(ofRow row: EventGradientCollector.Row) -> Double {
        Swift.abs(row.weight)
    }

    /// At most `count` of `indices`, evenly spread.
    static func spread(_ indices: [Int], count: Int) -> [Int] {
        guard indices.count > count else { return indices }
        return (0..<count).map { indices[$0 * indices.count / count] }
    }

    static func value(of parameter: Pipeline.Gradients.Parameter, in pipeline: Pipeline) -> Double {
        switch parameter {
        case .decay: Decay.rate(halfLife: pipeline.count.decay!.halfLife)
        case .temperature: pipeline.count.smoothing!.temperature
        case .bandwidth: pipeline.count.timeBins!.bandwidth
        }
    }

    static func setting(_ parameter: Pipeline.Gradients.Parameter, to value: Double, in pipeline: Pipeline) -> Pipeline {
        var pipeline = pipeline
        switch parameter {
        case .decay: pipeline.count.decay!.halfLife = Decay.halfLife(rate: value)
        case .temperature: pipeline.count.smoothing!.temperature = value
        case .bandwidth: pipeline.count.timeBins!.bandwidth = value
        }
        return pipeline
    }
}

/// Collects per-row gradients in memory (for `gradcheck`).
final class EventGradientCollector: OrderedSink {
    struct Row {
        var path: String
        var line: Int
        /// w_i, after decay.
        var weight: Double
        var gradient: Double
    }

    private(set) var rows: [Row] = []

    func add(_ output: EventGradientRows, of file: InputFile) throws {
        for i in output.lines.indices {
            rows.append(Row(path: file.displayPath, line: Int(output.lines[i]), weight: output.weights[i], gradient: output.gradients[i]))
        }
    }

    func endFile(_ file: InputFile, index: Int) {}
}
