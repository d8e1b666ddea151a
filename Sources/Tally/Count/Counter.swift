/// The differentiable counter: sums each kept row's weight into its key, sparsely, in O(N + K)
/// (times the bins a row touches), never as an N×K one-hot matrix; next to each value it
/// accumulates the value's derivative with respect to each differentiated parameter
/// (forward mode), so ∂L/∂θ needs no second pass.
struct Counter: Sendable {
    let shape: KeyShape
    let channels: Channels
    let decay: Decay?
    let kernel: Kernel?

    init(pipeline: Pipeline, shape: KeyShape) {
        self.shape = shape
        channels = Channels(pipeline)
        decay = Decay(pipeline, channels: channels)
        kernel = pipeline.count.timeBins.map(Kernel.init)
    }

    /// Whether keys are single ids (no pairs, no time bins): dense, so counted in plain arrays.
    var isDense: Bool { kernel == nil && shape.parts.count == 1 }

    /// The position, among the tokenized roles, of the role whose ids a dense counter's keys are;
    /// nil for other counters.
    var denseRole: Int? { isDense ? shape.positions[0] : nil }

    /// The counts of `events`, keyed by local ids; with decay, anchored at the batch's latest time.
    func count(_ events: EventBatch) -> KeyTable {
        let anchor = decay == nil ? nil : events.times.max()
        if isDense { return countDense(events, anchor: anchor) }
        // Pairs are mostly distinct within a batch: room for a key per row from the start, so
        // the table does not regrow and rehash midway.
        var table = KeyTable(channels: channels.count, capacity: max(64, events.rowsKept))
        table.anchor = anchor
        var bins: [Int64] = [], weights: [Double] = [], derivatives: [Double] = []
        for row in 0..<events.rowsKept {
            var w = events.weights[row], dw = 0.0
            if let decay, let anchor {
                let age = (anchor - events.times[row]) / Decay.secondsPerDay
                w *= decay.factor(age: age)
                dw = -age * w
            }
            let first = UInt32(bitPattern: events.ids[shape.positions[0]!].rowIds[row])
            guard let kernel else {
                let second = shape.parts.count > 1 ? UInt32(bitPattern: events.ids[shape.positions[1]!].rowIds[row]) : 0
                add(&table, shape.pack(first, second), count: 1, w, dw, 0)
                continue
            }
            let hard = kernel.spread(kernel.position(events.times[row]), bins: &bins, weights: &weights, derivatives: &derivatives)
            for i in bins.indices {
                // The tokenizer has checked that every bin the kernel reaches fits.
                let key = shape.pack(first, KeyShape.storedBin(bins[i])!)
                add(&table, key, count: bins[i] == hard ? 1 : 0, w * weights[i], dw * weights[i], w * derivatives[i])
            }
        }
        return table
    }

    /// A single-role key is a local id, which is already dense (0, 1, … in first-seen order):
    /// plain arrays, no hashing, and the same rows in the same order as a hashed table.
    private func countDense(_ events: EventBatch, anchor: Double?) -> KeyTable {
        let ids = events.ids[shape.positions[0]!].rowIds
        let n = events.ids[shape.positions[0]!].count, width = channels.count
        var counts = [Int64](repeating: 0, count: n), sums = [Double](repeating: 0, count: n * width)
        let decayChannel = channels.decay
        counts.withUnsafeMutableBufferPointer { counts in
            sums.withUnsafeMutableBufferPointer { sums in
                for row in 0..<events.rowsKept {
                    let k = Int(ids[row])
                    var w = events.weights[row]
                    counts[k] += 1
                    if let decay, let anchor {
                        let age = (anchor - events.times[row]) / Decay.secondsPerDay
                        w *= decay.factor(age: age)
                        if let c = decayChannel { sums[k * width + c] += -age * w }
                    }
                    sums[k * width] += w
                }
            }
        }
        return KeyTable(channels: width, denseCounts: counts, sums: sums, anchor: anchor)
    }

    /// Adds a value and its derivatives with respect to λ and h into their channels.
    @inline(__always)
    private func add(_ table: inout KeyTable, _ key: UInt64, count: Int64, _ value: Double, _ dDecay: Double, _ dBandwidth: Double) {
        if channels.decay == nil {
            table.add(key: key, count: count, value, dBandwidth)
        } else {
            table.add(key: key, count: count, value, dDecay, dBandwidth)
        }
    }
}
