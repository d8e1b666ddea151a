/// The first pass's work on a batch: parse the records, tokenize the rows, count them.
final class CountingWork: BatchWork {
    private let parser: CSVFieldParser
    private let tokenizer: RowTokenizer
    private let counter: Counter
    private(set) var seconds = 0.0

    init(pipeline: Pipeline, counter: Counter, savingPartials: Bool, weightDeltas: [String: [Int: Double]] = [:]) {
        parser = CSVFieldParser(delimiter: pipeline.input.delimiter)
        var rules = RowRules(pipeline, savingPartials: savingPartials)
        rules.weightDeltas = weightDeltas
        tokenizer = RowTokenizer(rules: rules)
        self.counter = counter
    }

    func process(_ batch: RecordBatch, layout: FileLayout, path: String, rows: Int?) throws -> BatchResult {
        let started = Clock.now
        defer { seconds += Clock.seconds(since: started) }
        let parsed = try parser.parse(batch)
        var events = tokenizer.tokenize(parsed, layout: layout, path: path, rows: rows)
        let keys = counter.count(events)
        events.dropRows()
        return BatchResult(events: events, keys: keys, fileFraction: batch.fileFraction)
    }
}

extension Fold: OrderedSink {}
