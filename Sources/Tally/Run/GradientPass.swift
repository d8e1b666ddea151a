/// The per-row gradients of one batch, in input order.
struct EventGradientRows: Sendable {
    var lines: [Int64] = []
    /// Per output key role, the final index of each row.
    var indices: [[Int32]]
    var bins: [Int64] = []
    var weights: [Double] = []
    var gradients: [Double] = []
}

/// The second pass's work on a batch (`gradients.per_event`): parse and tokenize the rows again,
/// give each its final indices and ∂L/∂b_i. Bad rows were reported by the first pass and are
/// skipped here the same way; rows dropped as out of vocabulary are left out.
final class GradientWork: BatchWork {
    private let parser: CSVFieldParser
    private let tokenizer: RowTokenizer
    private let model: RowGradients
    private(set) var seconds = 0.0

    init(pipeline: Pipeline, model: RowGradients) {
        parser = CSVFieldParser(delimiter: pipeline.input.delimiter)
        var rules = RowRules(pipeline)
        rules.keepsFirstLines = false   // only the counting pass reads them
        tokenizer = RowTokenizer(rules: rules)
        self.model = model
    }

    func process(_ batch: RecordBatch, layout: FileLayout, path: String, rows: Int?) throws -> EventGradientRows {
        let started = Clock.now
        defer { seconds += Clock.seconds(since: started) }
        let events = tokenizer.tokenize(try parser.parse(batch), layout: layout, path: path, rows: rows)
        // Local id → final index, per tokenized role (nil: dropped).
        let finals: [[Int32?]] = events.ids.indices.map { k in
            (0..<events.ids[k].count).map { id in
                events.ids[k].withKey(Int32(id)) { model.ids[k].index($0) }
            }
        }
        var output = EventGradientRows(indices: Array(repeating: [], count: model.shape.roles.count))
        var ids = [Int32](repeating: 0, count: finals.count)
        rows: for row in 0..<events.rowsKept {
            for k in finals.indices {
                guard let index = finals[k][Int(events.ids[k].rowIds[row])] else { continue rows }
                ids[k] = index
            }
            let result = model.row(finalIds: ids, time: events.times.isEmpty ? nil : events.times[row],
                                   baseWeight: events.weights[row])
            output.lines.append(Int64(batch.line(ofRecord: Int(events.records[row]))))
            for (part, index) in result.indices.enumerated() { output.indices[part].append(index) }
            if let bin = result.bin { output.bins.append(bin) }
            output.weights.append(result.weight)
            output.gradients.append(result.gradient)
        }
        return output
    }
}
