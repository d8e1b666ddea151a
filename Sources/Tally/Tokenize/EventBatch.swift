/// The events of one record batch: the kept rows with their ids as *local* ids (dense within
/// the batch, in first-seen order), their base weights and times, and the rows that were bad.
///
/// Local ids keep the workers independent: the in-order fold maps them to the run's
/// vocabulary, so ids are numbered the same way for any number of workers.
struct EventBatch: Sendable {
    /// The distinct ids of each tokenized role (in `RowRules.roles` order), in first-seen order.
    var ids: [LocalIds]
    /// Per kept row, the local id of each role: `localIds[role][row]`.
    var localIds: [[Int32]]
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

    /// `rows` bounds the number of distinct ids, so the id tables never grow.
    init(roles: Int, rows: Int = 0) {
        ids = (0..<roles).map { _ in LocalIds(capacity: rows) }
        localIds = Array(repeating: [], count: roles)
    }

    /// Rows kept; stays right after `dropRows()`.
    var rowsKept = 0
}

/// The distinct ids of one role in one batch.
struct LocalIds: Sendable {
    var table: IdTable
    /// Kept rows per local id.
    var rows: [Int64] = []
    /// The physical line (1-based) of each local id's first row; empty unless the run keeps
    /// them (`RowRules.keepsFirstLines`).
    var firstLine: [Int] = []

    init(capacity: Int = 256) {
        table = IdTable(capacity: max(16, capacity))
    }

    /// Inserts `keys` in order; returns the local id of each. Counts each one's rows and, with
    /// `firstLine`, keeps the line (`firstLine(i)` for `keys[i]`) of each new one.
    ///
    /// One key after another: a batch's table stays in cache, where the prefetching of
    /// `IdTable.insertEach` (for the fold's file tables, which do not) costs more than the misses
    /// it would hide (B1 and B3: 4% less CPU and wall time without it).
    mutating func insert(_ keys: UnsafeBufferPointer<UnsafeRawBufferPointer>, firstLine line: ((Int) -> Int)?) -> [Int32] {
        let ids = keys.map { table.insert($0).id }
        rows.append(contentsOf: repeatElement(0, count: table.count - rows.count))
        rows.withUnsafeMutableBufferPointer { rows in
            for id in ids { rows[Int(id)] += 1 }
        }
        if let line { keepFirstLines(of: ids, line) }
        return ids
    }

    /// Keeps `line(i)` as the first line of `ids[i]` for each id of `ids` seen for the first
    /// time: new ids come in order, right after the ones already here.
    mutating func keepFirstLines(of ids: [Int32], _ line: (Int) -> Int) {
        for (i, id) in ids.enumerated() where Int(id) == firstLine.count { firstLine.append(line(i)) }
    }
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
    /// Frees the per-row arrays once the rows are counted; the counts and ids stay.
    mutating func dropRows() {
        localIds = []
        weights = []
        times = []
        records = []
    }
}
