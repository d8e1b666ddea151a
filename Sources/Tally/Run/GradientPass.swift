import Parquet

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

/// Writes `event_grads.parquet` in input order: file, line, key indices, w_i, ∂L/∂b_i.
final class EventGradientSink: OrderedSink {
    private let writer: ParquetWriter
    private let shape: KeyShape
    private(set) var rows = 0

    init(path: String, shape: KeyShape, options: ParquetWriterOptions) throws {
        self.shape = shape
        var columns = [ParquetColumn("file", .string), ParquetColumn("line", .int64)]
        columns += shape.roles.map { ParquetColumn($0.rawValue, .int32) }
        if shape.hasTime { columns.append(ParquetColumn("time_bin", .int64)) }
        columns += [ParquetColumn("weight", .double), ParquetColumn("grad", .double)]
        writer = try TableWriter.open(path: path, columns: columns, options: options)
    }

    func add(_ output: EventGradientRows, of file: InputFile) throws {
        var files = ByteArrayColumn()
        for _ in output.lines { files.append(file.relativePath) }
        var batch = [ColumnBatch(.byteArray(files)), ColumnBatch(.int64(output.lines))]
        batch += output.indices.map { ColumnBatch(.int32($0)) }
        if shape.hasTime { batch.append(ColumnBatch(.int64(output.bins))) }
        batch += [ColumnBatch(.double(output.weights)), ColumnBatch(.double(output.gradients))]
        try TableWriter.append(to: writer, batch)
        rows += output.lines.count
    }

    func endFile(_ file: InputFile, index: Int) {}

    func close() throws { try TableWriter.close(writer) }
}
