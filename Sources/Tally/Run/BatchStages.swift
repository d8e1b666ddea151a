/// A run's per-batch stages after parsing — tokenize, then count — on their own, for the
/// micro-benchmarks (`Benchmarks/`) and other tools outside the module.
///
/// Built for one file (its field layout comes from the file's header). Each call does exactly what
/// a run's worker does with a parsed batch, and returns only totals; calls share no state.
public struct BatchStages: Sendable {
    /// What one batch came to.
    public struct Totals: Sendable, Equatable {
        public var rowsRead: Int
        public var rowsKept: Int
        public var rowsFiltered: Int
        public var badRows: Int
        /// Distinct ids in the batch, summed over the tokenized roles.
        public var distinctIds: Int
        /// Distinct count keys in the batch; 0 when the batch was only tokenized.
        public var keys: Int
    }

    private let tokenizer: RowTokenizer
    private let layout: FileLayout
    private let counter: Counter

    /// The stages of `pipeline` for the file `reader` reads. Throws `.badInput` for a missing column.
    public init(pipeline: Pipeline, reader: RecordReader) throws {
        let rules = RowRules(pipeline)
        tokenizer = RowTokenizer(rules: rules)
        layout = try FileLayout(rules, input: pipeline.input, reader: reader)
        counter = Counter(pipeline: pipeline,
                          shape: KeyShape(key: RunInputs.countedKey(pipeline), tokenized: rules.roles))
    }

    /// Tokenizes `parsed` (ids → local ids, weights, times); `path` names the file in bad rows.
    public func tokenize(_ parsed: ParsedBatch, path: String) -> Totals {
        totals(tokenizer.tokenize(parsed, layout: layout, path: path), keys: 0)
    }

    /// Tokenizes and counts `parsed`, as a run's counting pass does.
    public func tokenizeAndCount(_ parsed: ParsedBatch, path: String) -> Totals {
        let events = tokenizer.tokenize(parsed, layout: layout, path: path)
        return totals(events, keys: counter.count(events).count)
    }

    private func totals(_ events: EventBatch, keys: Int) -> Totals {
        Totals(rowsRead: events.rowsRead, rowsKept: events.rowsKept, rowsFiltered: events.rowsFiltered,
               badRows: events.badRows.count, distinctIds: events.ids.reduce(0) { $0 + $1.count }, keys: keys)
    }
}
