/// What the tokenizer takes from every row, derived once from the pipeline.
struct RowRules: Sendable {
    /// The roles whose ids are tokenized, in the order `user`, `item`.
    var roles: [Role]
    var weight: Pipeline.Weight
    /// The time format, when rows carry a time.
    var timeFormat: Pipeline.TimeFormat?
    var filters: [Pipeline.Filter]
    /// Whether bad rows keep their raw bytes (for `quarantine.parquet`).
    var keepRawBadRows: Bool

    init(_ pipeline: Pipeline) {
        roles = pipeline.vocabulary.keys.sorted()
        weight = pipeline.count.weight
        timeFormat = pipeline.input.columns[.time] == nil ? nil : pipeline.input.timeFormat
        filters = pipeline.input.filters
        keepRawBadRows = pipeline.input.badRows.policy == .quarantine
    }
}

/// Where the fields a row needs sit in one file's records (0-based field numbers).
struct FileLayout: Sendable {
    /// Every record must have exactly this many fields: the header's (nil without a header).
    var fieldCount: Int?
    /// Every record must have at least the fields the pipeline uses.
    var minimumFieldCount: Int
    /// The id field of each tokenized role, in `RowRules.roles` order.
    var idFields: [Int]
    var weightField: Int?
    var eventField: Int?
    var timeField: Int?
    /// Each filter's field and its accepted values.
    var filters: [(field: Int, values: [[UInt8]])]
}
