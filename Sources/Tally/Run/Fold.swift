/// The counts of one record batch, ready to be folded: its events (without the per-row
/// arrays) and its counts keyed by local ids.
struct BatchResult: Sendable {
    var events: EventBatch
    var keys: KeyTable
    /// The batch's `RecordBatch.fileFraction`.
    var fileFraction = 1.0
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

/// Folds the input, in input order, into the run's vocabularies and counts.
///
/// Batches fold into their file's partial; at the end of a file, its partial — counted now or
/// read back from the state cache — folds into the run's: the same two-level order whatever the
/// number of workers and whichever files were reused, so the floating-point sums come out bit
/// for bit the same. Owned by the fold queue; not thread-safe.
final class Fold {
    private(set) var vocabularies: [Vocabulary]
    let shape: KeyShape
    let counter: Counter
    let ledger: BadRowLedger
    private var file: FilePartial
    /// The run's counts, keyed by provisional ids.
    private(set) var runKeys: KeyTable
    private(set) var runStats = RowStats()
    /// The latest time among all kept rows (with decay): the reference `end`.
    private(set) var latestTime: Double?
    /// One entry per finished input file.
    private(set) var inputs: [(file: InputFile, rows: RowStats, reused: Bool)] = []
    /// Partials of files that need not be read again, by file index.
    private let cached: [Int: FilePartial]
    /// Called with each file's partial as it is folded (to save it in the state cache).
    private let finished: ((InputFile, FilePartial) -> Void)?
    private let policy: Pipeline.BadRows.Policy

    init(vocabularies: [Vocabulary], counter: Counter, ledger: BadRowLedger, policy: Pipeline.BadRows.Policy,
         cached: [Int: FilePartial] = [:], finished: ((InputFile, FilePartial) -> Void)? = nil) {
        self.vocabularies = vocabularies
        self.counter = counter
        self.shape = counter.shape
        self.ledger = ledger
        self.policy = policy
        self.cached = cached
        self.finished = finished
        file = FilePartial(roles: vocabularies.count, channels: counter.channels.count)
        runKeys = KeyTable(channels: counter.channels.count, capacity: 1 << 14)
    }

    /// Gives up the run's counts (leaving none), so that the reducer can sort them in place.
    func takeRunKeys() -> KeyTable {
        var keys = KeyTable(channels: counter.channels.count)
        swap(&keys, &runKeys)
        return keys
    }

    /// Lets go of the run's vocabularies once nothing will look an id up again: their id tables
    /// are the largest thing left after the reduction has taken its entries.
    func releaseVocabularies() {
        vocabularies.removeAll()
    }

    /// Lets go of the indexes of the vocabularies' id tables, keeping the ids, once nothing will
    /// look an id up again: before the vocabularies are ordered, whose sorts then have that room.
    func dropIdIndexes() {
        for k in vocabularies.indices { vocabularies[k].dropIndex() }
    }

    /// Folds the next batch of `file`. Under `bad_rows: fail` the first bad row stops the run
    /// here, before the rest of the file is read.
    func add(_ batch: BatchResult, of input: InputFile) throws {
        if policy == .fail, let row = batch.events.badRows.first {
            throw TallyError(.badInput, stage: row.stage, at: row.location, row.reason)
        }
        file.add(batch, counter: counter)
    }

    /// Closes file number `index`: its partial (or the cached one) joins the run's.
    func endFile(_ input: InputFile, index: Int) throws {
        let reused = cached[index] != nil
        var partial = cached[index] ?? file
        file = FilePartial(roles: vocabularies.count, channels: counter.channels.count)
        if !reused {
            partial.finish(counter)
            if let finished {
                // Saved with one row per key: a fraction of the size, and folded to the same sums.
                partial.keys.consolidate()
                finished(input, partial)
            }
        }
        let (stats, badRows) = (partial.stats, partial.badRows)
        try fold(partial, of: input)
        inputs.append((input, stats, reused))
        EventLog.shared.badRows(badRows, file: input, policy: policy)
        EventLog.shared.fileDone(input, rows: stats, reused: reused)
    }

    /// Folds a file's partial into the run's, taking its storage where it can (its counts become
    /// the run's when they are the first).
    private func fold(_ partial: consuming FilePartial, of input: InputFile) throws {
        try ledger.record(partial.badRows, file: input.relativePath)
        runStats += partial.stats
        if let time = partial.latestTime { latestTime = max(latestTime ?? time, time) }
        // Each role's provisional id of each of the file's ids; nil where they are the same.
        var mappings: [[Int32]?] = []
        for k in vocabularies.indices {
            let local = partial.ids[k].table
            let rows = partial.ids[k].rows
            let failsOnUnknown = vocabularies[k].isFrozen && vocabularies[k].settings.oov == .fail
            if vocabularies[k].isEmpty && !failsOnUnknown {
                // The run's first ids (usually its first file): they keep their ids.
                vocabularies[k].adopt(local, rows: rows)
                mappings.append(nil)
                continue
            }
            var mapping = [Int32](repeating: 0, count: local.count)
            for id in 0..<local.count {
                let provisional = local.withKey(Int32(id)) {
                    vocabularies[k].observe($0, hash: local.hashes[id], rows: rows[id])
                }
                if failsOnUnknown, !vocabularies[k].isLoaded(provisional) {
                    let text = String(decoding: local.key(Int32(id)), as: UTF8.self)
                    throw TallyError(.badInput, stage: .tokenize,
                                     at: InputLocation(path: input.displayPath, line: partial.ids[k].firstLine[id]),
                                     "\(vocabularies[k].role.rawValue) id '\(text)' is not in the frozen vocabulary and oov is 'fail'")
                }
                mapping[id] = provisional
            }
            mappings.append(mapping)
        }
        var keys = KeyTable(channels: counter.channels.count)
        swap(&keys, &partial.keys)
        let (shape, fileToRun) = (shape, mappings)
        let mapping = fileToRun.allSatisfy { $0 == nil } ? nil : { (key: UInt64) -> UInt64? in
            shape.map(key) { position, id in fileToRun[position]?[Int(id)] ?? id }
        }
        runKeys.merge(consume keys, decay: counter.decay, mapping: mapping)
    }
}
