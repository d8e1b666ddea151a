/// What the tokenizer takes from every row, derived once from the pipeline.
struct RowRules: Sendable {
    /// The roles whose ids are tokenized, in the order `user`, `item`.
    var roles: [Role]
    var weight: Pipeline.Weight
    var timeBins: Pipeline.TimeBins?
    /// The time format, when rows carry a time.
    var timeFormat: Pipeline.TimeFormat?
    var filters: [Pipeline.Filter]
    /// Whether bad rows keep their raw bytes (for `quarantine.parquet`).
    var keepRawBadRows: Bool
    /// A longer field makes its row bad (`input.max_field_bytes`).
    var maxFieldBytes: Int
    /// Whether each id's first line is kept (`BatchIds.firstLine`, `FileIds.firstLine`): only
    /// the error for an id out of a frozen vocabulary with `oov: fail` names it, so a run keeps
    /// them when it may raise that error or saves its partials for runs that may. Otherwise
    /// they would cost a word per distinct id (8 MB for the benchmark log's items) for nothing.
    var keepsFirstLines: Bool
    /// Added to the base weight of given rows, by display path and line: how `gradcheck`
    /// perturbs one row's weight. Empty in a normal run.
    var weightDeltas: [String: [Int: Double]] = [:]

    init(_ pipeline: Pipeline, savingPartials: Bool = false) {
        roles = pipeline.vocabulary.keys.sorted()
        weight = pipeline.count.weight
        timeBins = pipeline.count.timeBins
        timeFormat = pipeline.input.columns[.time] == nil ? nil : pipeline.input.timeFormat
        filters = pipeline.input.filters
        keepRawBadRows = pipeline.input.badRows.policy == .quarantine
        maxFieldBytes = pipeline.input.maxFieldBytes
        keepsFirstLines = savingPartials || pipeline.vocabulary.values.contains { $0.mode == .frozen && $0.oov == .fail }
    }

    /// Whether every bin the kernel reaches from `time` has a 32-bit number (always true
    /// without time bins).
    func isBinnable(_ time: Double) -> Bool {
        guard let bins = timeBins else { return true }
        let kernel = Kernel(bins)
        return Swift.abs(kernel.position(time)) <= Double(Int32.max) - kernel.reach - 2
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

extension FileLayout {
    /// The layout of the file `reader` reads: the pipeline's columns looked up in its header
    /// (or taken as field numbers without a header). Throws `.badInput` for a missing column.
    init(_ rules: RowRules, input: Pipeline.Input, reader: RecordReader) throws {
        var refs: [Pipeline.ColumnRef] = rules.roles.map { role in
            input.columns[role.column]!.value
        }
        var weightAt: Int?, eventAt: Int?, timeAt: Int?
        switch rules.weight {
        case .one: break
        case .column(let column): weightAt = refs.count; refs.append(column.value)
        case .events: eventAt = refs.count; refs.append(input.columns[.event]!.value)
        }
        if rules.timeFormat != nil, let time = input.columns[.time] {
            timeAt = refs.count
            refs.append(time.value)
        }
        let filtersAt = refs.count
        refs += rules.filters.map(\.column.value)

        // nil: an empty file, which has no rows to lay out.
        let positions = try reader.columnPositions(refs) ?? Array(repeating: 0, count: refs.count)
        self.init(
            fieldCount: try reader.header()?.names.count,
            minimumFieldCount: (positions.max() ?? -1) + 1,
            idFields: Array(positions[..<rules.roles.count]),
            weightField: weightAt.map { positions[$0] },
            eventField: eventAt.map { positions[$0] },
            timeField: timeAt.map { positions[$0] },
            filters: rules.filters.enumerated().map { i, filter in
                (positions[filtersAt + i], filter.values.map { Array($0.utf8) })
            })
    }
}
