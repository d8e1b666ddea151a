/// One input file's counts, keyed by the file's own ids: the unit the run folds, the state cache
/// stores and shards exchange (a value of the counter's monoid, keyed by ids, never by indices).
///
/// Batches fold into it in input order; `Fold` then folds partials in path order, whether they
/// were just counted or read back from the cache, so both give the same bytes.
struct FilePartial: Sendable {
    /// The file's distinct ids per tokenized role (`RowRules.roles` order), in first-seen order,
    /// with their kept rows and the line of their first row. The kept rows of a dense counter's
    /// role are its counts: they are filled in by `finish`, not added up batch by batch.
    var ids: [FileIds]
    /// Counts keyed by the file's ids (and time bins); anchored at its first batch's latest time
    /// with decay.
    var keys: KeyTable
    var stats = RowStats()
    /// The latest time among its kept rows (with decay).
    var latestTime: Double?
    /// Its bad rows, in input order (with their raw bytes under `quarantine`).
    var badRows: [BadRow] = []

    init(roles: Int, channels: Int) {
        ids = Array(repeating: FileIds(), count: roles)
        keys = KeyTable(channels: channels)
    }

    /// Folds the next batch of the file.
    mutating func add(_ batch: BatchResult, counter: Counter) {
        let events = batch.events
        stats += RowStats(read: events.rowsRead, kept: events.rowsKept, filtered: events.rowsFiltered, bad: events.badRows.count)
        badRows += events.badRows
        if let anchor = batch.keys.anchor { latestTime = max(latestTime ?? anchor, anchor) }
        let mappings = events.ids.indices.map { k in ids[k].absorb(events.ids[k], addingRows: k != counter.denseRole) }
        let key = { (key: UInt64) in counter.shape.map(key) { position, id in mappings[position][Int(id)] } }
        if counter.isDense {
            // One role: the file's ids are dense, so are its keys.
            keys.mergeDense(batch.keys, decay: counter.decay, mapping: key)
        } else {
            // Appended, not hashed: a file's table can hold millions of keys, and random lookups
            // into it would miss the cache on almost every row. As many rows are likely to
            // follow per byte of the file as came so far.
            let rows = Double(keys.count + batch.keys.count)
            keys.append(batch.keys, decay: counter.decay, mapping: key,
                        expectedCount: Int(min(rows / max(batch.fileFraction, 1e-6), 1e12)))
        }
    }

    /// Completes the partial once its last batch is in: a dense counter's kept rows per id are
    /// its counts. (A sparse table keeps its appended rows, combined only when the fold or the
    /// reducer needs one row per key: see `KeyTable.repeatsKeys`.)
    mutating func finish(_ counter: Counter) {
        if let role = counter.denseRole {
            // Every kept row counts once for its id, and every id has a kept row: the dense
            // counts are the kept rows, key by key (sharing their storage until either changes).
            ids[role].rows = keys.counts
        }
    }
}

/// The distinct ids of one role in one file, in first-seen order: the file's own ids.
struct FileIds: Sendable {
    var table = IdTable(capacity: 256)
    /// Kept rows per id.
    var rows: [Int64] = []
    /// The physical line (1-based) of each id's first row; empty unless the run keeps them
    /// (`RowRules.keepsFirstLines`).
    var firstLine: [Int] = []

    /// Adds a batch's ids, their first lines and, when `addingRows`, their rows to these;
    /// returns the id here of each of the batch's ids.
    mutating func absorb(_ batch: BatchIds, addingRows: Bool) -> [Int32] {
        let mapping = batch.withKeys { keys in
            batch.hashes.withUnsafeBufferPointer { table.insertEach(keys, hashes: $0) }
        }
        // New ids come in order, right after the ones already here.
        if !batch.firstLine.isEmpty {
            for (theirs, mine) in mapping.enumerated() where Int(mine) == firstLine.count {
                firstLine.append(batch.firstLine[theirs])
            }
        }
        guard addingRows else { return mapping }
        rows.append(contentsOf: repeatElement(0, count: table.count - rows.count))
        let distance = 8
        for (theirs, mine) in mapping.enumerated() {
            if theirs + distance < mapping.count {
                rows.prefetch(Int(mapping[theirs + distance]), forWriting: true)
            }
            rows[Int(mine)] += batch.rows[theirs]
        }
        return mapping
    }
}
