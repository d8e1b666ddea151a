/// The events of one record batch: the kept rows with their ids as *local* ids (dense within
/// the batch, in first-seen order), their base weights and times, and the rows that were bad.
///
/// Local ids keep the workers independent: the in-order fold maps them to the run's
/// vocabulary, so ids are numbered the same way for any number of workers.
struct EventBatch: Sendable {
    /// The distinct ids of each tokenized role (in `RowRules.roles` order), in first-seen order,
    /// and each kept row's: `ids[role].rowIds[row]`.
    var ids: [BatchIds]
    /// Per kept row, the base weight b_i.
    var weights: [Double] = []
    /// Per kept row, the time in seconds since the epoch (empty when rows carry no time).
    var times: [Double] = []
    /// Per kept row, its record's index in the batch (for its line and location).
    var records: [Int32] = []
    /// Rows read (records after the header).
    var rowsRead = 0
    /// Rows left out by `where`.
    var rowsFiltered = 0
    /// Bad rows, in input order.
    var badRows: [BadRow] = []

    init(roles: Int) {
        ids = Array(repeating: BatchIds(), count: roles)
    }

    /// Rows kept; stays right after `dropRows()`.
    var rowsKept = 0
}

/// A row that could not be used, with where it is and why.
struct BadRow: Sendable {
    /// `read` for records that do not parse, `tokenize` for fields that do not convert.
    var stage: TallyError.Stage
    var location: InputLocation
    var reason: String
    /// The record's bytes as read, without its line end; empty unless quarantined.
    var raw: [UInt8]
}

extension EventBatch {
    /// Frees the per-row arrays once the rows are counted; the counts and ids stay (and the ids
    /// keep the batch's field bytes until the fold).
    mutating func dropRows() {
        for k in ids.indices { ids[k].dropRowIds() }
        weights = []
        times = []
        records = []
    }
}
