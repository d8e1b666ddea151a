/// The counts of one record batch, ready to be folded: its events (without the per-row
/// arrays) and its counts keyed by local ids.
struct BatchResult: Sendable {
    var events: EventBatch
    var keys: KeyTable
}

/// Rows read, kept and left out, for one file or the whole run.
struct RowStats: Sendable {
    var read = 0
    var kept = 0
    var filtered = 0
    var bad = 0

    static func += (a: inout RowStats, b: RowStats) {
        a.read += b.read
        a.kept += b.kept
        a.filtered += b.filtered
        a.bad += b.bad
    }
}

/// Folds batch results, in input order, into the run's vocabularies and counts.
///
/// Batches are folded into the current file's partial, and each file's partial into the run's
/// at the end of the file: the same two-level order whatever the number of workers, so the
/// floating-point sums come out bit for bit the same. Owned by the fold queue; not thread-safe.
final class Fold {
    private(set) var vocabularies: [Vocabulary]
    let shape: KeyShape
    let counter: Counter
    let ledger: BadRowLedger
    private var fileKeys: KeyTable
    private(set) var runKeys: KeyTable
    private var fileStats = RowStats()
    private(set) var runStats = RowStats()
    /// The latest time among all kept rows (with decay): the reference `end`.
    private(set) var latestTime: Double?
    /// One entry per finished input file.
    private(set) var inputs: [(file: InputFile, rows: RowStats)] = []

    init(vocabularies: [Vocabulary], counter: Counter, ledger: BadRowLedger) {
        self.vocabularies = vocabularies
        self.counter = counter
        self.shape = counter.shape
        self.ledger = ledger
        fileKeys = KeyTable(channels: counter.channels.count)
        runKeys = KeyTable(channels: counter.channels.count, capacity: 1 << 14)
    }

    /// Folds the next batch of `file`.
    func add(_ batch: BatchResult, of file: InputFile) throws {
        let events = batch.events
        try ledger.record(events.badRows, file: file.relativePath)
        fileStats += RowStats(read: events.rowsRead, kept: events.rowsKept,
                              filtered: events.rowsFiltered, bad: events.badRows.count)
        if let anchor = batch.keys.anchor { latestTime = max(latestTime ?? anchor, anchor) }

        var mappings: [[Int32]] = []
        for k in vocabularies.indices {
            let local = events.ids[k]
            var mapping = [Int32](repeating: 0, count: local.table.count)
            for id in 0..<local.table.count {
                let provisional = local.table.key(Int32(id)).withUnsafeBytes {
                    vocabularies[k].observe($0, rows: local.rows[id])
                }
                if vocabularies[k].isFrozen, vocabularies[k].settings.oov == .fail, !vocabularies[k].isLoaded(provisional) {
                    let text = String(decoding: local.table.key(Int32(id)), as: UTF8.self)
                    throw TallyError(.badInput, stage: .tokenize,
                                     at: InputLocation(path: file.displayPath, line: local.firstLine[id]),
                                     "\(vocabularies[k].role.rawValue) id '\(text)' is not in the frozen vocabulary and oov is 'fail'")
                }
                mapping[id] = provisional
            }
            mappings.append(mapping)
        }
        fileKeys.merge(batch.keys, decay: counter.decay) { key in
            shape.map(key) { position, id in mappings[position][Int(id)] }
        }
    }

    /// Closes `file`: its partial joins the run's.
    func endFile(_ file: InputFile) {
        runKeys.merge(fileKeys, decay: counter.decay) { $0 }
        fileKeys.removeAll()
        runStats += fileStats
        inputs.append((file, fileStats))
        fileStats = RowStats()
    }
}
