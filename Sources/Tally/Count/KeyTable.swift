import Foundation

/// Sums per key — a count, a value and the value's derivatives — in first-insertion order.
///
/// A key is a `UInt64` (see `KeyShape`). Each key has a row: `counts[row]` and `channels`
/// doubles in `sums[row * channels ..< (row + 1) * channels]`: channel 0 is the value v_k, the
/// others ∂v_k/∂θ for the differentiated parameters (see `Channels`). The table is the counter's
/// monoid: `add` and `merge` are sums, and rows keep the order in which their keys first
/// appeared, so folding partials in input order gives the same bytes for any number of workers.
///
/// With decay, sums are anchored at a time (`anchor`, seconds): they hold Σ b_i·e^(−λ(anchor − t_i))
/// and its derivative. `merge` re-anchors exactly (see `Decay`). Sparse: memory is O(distinct
/// keys), never a one-hot matrix. Not thread-safe.
///
/// After `append`, a key may have several rows (`repeatsKeys`): their sums are added, in row
/// order, by `consolidate()`, which whatever needs one row per key calls first. A run of one file
/// whose partial is not saved sorts its pairs once, as the reducer puts them in their final
/// order, rather than once more at the end of the file.
struct KeyTable: Sendable {
    let channels: Int
    /// The keys, in first-insertion order.
    private(set) var keys: [UInt64] = []
    /// Rows whose own hard key this is.
    private(set) var counts: [Int64] = []
    /// `channels` sums per row.
    private(set) var sums: [Double] = []
    /// The time the decayed sums are anchored at (nil before the first decayed row).
    var anchor: Double?
    /// Whether a key may have more than one row: after `append`, until `consolidate()`.
    private(set) var repeatsKeys = false
    /// 0 = empty, else row + 1; empty until a key is first looked up (see `init(channels:denseCounts:sums:anchor:)`).
    private var slots: [Int32] = []
    private var mask = 0
    private let capacity: Int

    /// An empty table with room for `capacity` keys before it grows.
    init(channels: Int = 1, capacity: Int = 0) {
        self.channels = channels
        self.capacity = capacity
        keys.reserveCapacity(capacity)
        counts.reserveCapacity(capacity)
        sums.reserveCapacity(capacity * channels)
    }

    /// A table whose keys are 0, 1, …, counts.count − 1, in that order, with the given sums
    /// (`channels` per key). Its index is built only if a key is ever looked up.
    init(channels: Int, denseCounts counts: [Int64], sums: [Double], anchor: Double?) {
        self.init(channels: channels, keys: (0..<UInt64(counts.count)).map { $0 }, counts: counts, sums: sums, anchor: anchor)
    }

    /// A table with the given rows (`channels` sums per key; distinct keys unless
    /// `repeatsKeys`). Its index is built only if a key is ever looked up.
    init(channels: Int, keys: [UInt64], counts: [Int64], sums: [Double], anchor: Double?, repeatsKeys: Bool = false) {
        precondition(keys.count == counts.count && sums.count == keys.count * channels)
        self.channels = channels
        capacity = keys.count
        self.keys = keys
        self.counts = counts
        self.sums = sums
        self.anchor = anchor
        self.repeatsKeys = repeatsKeys
    }

    /// Builds the index of `keys` (needed by `find` on a table made from arrays).
    mutating func buildIndex() {
        precondition(!repeatsKeys, "the index of a table with repeated keys: consolidate it first")
        var size = 16
        while size < max(capacity, keys.count) * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        for (row, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: mix64(key)) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(row + 1)
        }
    }

    var count: Int { keys.count }

    /// Channel `channel` of row `row`.
    @inline(__always)
    func sum(_ row: Int, _ channel: Int) -> Double { sums[row &* channels &+ channel] }

    /// Adds `count` rows and the values `v0, v1, v2` (channels 0, 1, 2; extra ones ignored).
    @inline(__always)
    mutating func add(key: UInt64, count: Int64, _ v0: Double, _ v1: Double = 0, _ v2: Double = 0) {
        let (slot, found) = locate(key)
        guard let row = found else {
            // Most pairs of a batch are new: their row is appended with its first values at
            // once (0 + v, as adding v to a zero row gives: −0 becomes +0).
            insert(key, at: slot, count: count, 0 + v0, 0 + v1, 0 + v2)
            return
        }
        counts[row] += count
        let base = row &* channels
        sums.withUnsafeMutableBufferPointer { sums in
            sums[base] += v0
            if channels > 1 { sums[base + 1] += v1 }
            if channels > 2 { sums[base + 2] += v2 }
        }
    }

    /// Adds every row of `other`, keys translated by `mapping` (a nil key leaves the row out; no
    /// mapping keeps the keys as they are), in `other`'s row order; with `decay`, `other`'s sums
    /// are first moved to this table's anchor. Either table with repeated keys is consolidated
    /// first, unless this one is empty.
    mutating func merge(_ other: consuming KeyTable, decay: Decay? = nil, mapping: ((UInt64) -> UInt64?)?) {
        guard other.count > 0 else { return }
        if count == 0 && anchor == nil {
            // Into an empty table: `other`'s rows become this table's, keys mapped in place, no
            // hashing (the index is built only if a key is looked up later) and no copy unless
            // something else holds them (a state cache's save, a reused partial). Mappings of
            // ids are one to one and the sums are unchanged, so this is the same as adding them,
            // but that repeated keys stay repeated (combined when something needs them so).
            if let mapping { other.mapKeys(mapping) }
            self = other
            return
        }
        if repeatsKeys { consolidate() }
        if other.repeatsKeys { other.consolidate() }
        let shift = alignAnchors(with: other, decay: decay)
        for row in 0..<other.count {
            let mapped = if let mapping { mapping(other.keys[row]) } else { other.keys[row] }
            guard let key = mapped else { continue }
            let target = self.row(for: key)
            counts[target] += other.counts[row]
            shift.add(other.sums, from: row &* channels, width: channels, into: &sums, at: target &* channels)
        }
    }

    /// Translates every key by `mapping`, in place; rows mapped to nil are removed.
    mutating func mapKeys(_ mapping: (UInt64) -> UInt64?) {
        compact { key, _, _ in mapping(key) }
    }

    /// Translates every key by `mapping`, which keeps every row, in place: in slices on every
    /// core (the run's keys, mapped to final indices, are millions of random lookups). Keys
    /// mapped to one key repeat it: `consolidate()` combines them.
    mutating func translateKeys(_ mapping: @Sendable (UInt64) -> UInt64) {
        slots = []
        repeatsKeys = true
        let count = count
        keys.withUnsafeMutableBufferPointer { keys in
            let shared = UncheckedSendable(keys)
            let parts = Slices.count(forRows: count)
            Slices.forEach(parts) { part in
                for row in Slices.slice(part, of: parts, rows: count) { shared.value[row] = mapping(shared.value[row]) }
            }
        }
    }

    /// Removes the rows that add nothing: count 0 and first sum 0 (a row of weight 0 touches
    /// bins it adds nothing to). In place, keeping the order.
    mutating func removeEmptyRows() {
        compact { key, count, firstSum in count > 0 || firstSum != 0 ? key : nil }
    }

    /// Keeps, in order, the rows for which `newKey(key, count, first sum)` gives a key, under
    /// that key; the index is built again when a key is next looked up.
    private mutating func compact(_ newKey: (UInt64, Int64, Double) -> UInt64?) {
        slots = []
        var kept = 0
        for row in 0..<count {
            guard let key = newKey(keys[row], counts[row], sums[row &* channels]) else { continue }
            moveRow(row, to: kept)
            keys[kept] = key
            kept += 1
        }
        keepFirst(kept)
    }

    /// Moves row `from`'s count and sums to row `to` (its key is the caller's to set).
    @inline(__always)
    private mutating func moveRow(_ from: Int, to: Int) {
        guard from != to else { return }
        counts[to] = counts[from]
        for c in 0..<channels { sums[to &* channels &+ c] = sums[from &* channels &+ c] }
    }

    /// Keeps the first `rows` rows; with `shrinking`, lets go of the room the others took too.
    private mutating func keepFirst(_ rows: Int, shrinking: Bool = false) {
        if shrinking {
            (keys, counts, sums) = (Array(keys[..<rows]), Array(counts[..<rows]), Array(sums[..<(rows * channels)]))
        } else {
            keys.removeLast(keys.count - rows)
            counts.removeLast(counts.count - rows)
            sums.removeLast(sums.count - rows * channels)
        }
    }

    /// Appends every row of `other` (keys translated by `mapping`), without combining equal
    /// keys (`repeatsKeys`): cheaper than `merge` into a large table, whose random lookups miss
    /// the cache. `expectedCount`, an estimate of the rows the table will end with, sizes it
    /// when it grows.
    mutating func append(_ other: KeyTable, decay: Decay? = nil, mapping: (UInt64) -> UInt64, expectedCount: Int? = nil) {
        guard other.count > 0 else { return }
        let shift = alignAnchors(with: other, decay: decay)
        slots = []
        repeatsKeys = true
        if keys.count + other.count > keys.capacity {
            // Each growth copies every row so far and touches fresh pages, while room not yet
            // filled costs address space only (its pages are touched as rows come): so grown
            // at once to the expected size and an eighth more (at most 64 times the rows so far,
            // in case the estimate is wild), else fourfold; at least twofold either way.
            let needed = keys.count + other.count
            let expected = expectedCount.map { min($0 + $0 / 8, 64 * needed) } ?? 4 * keys.capacity
            let rows = max(needed, 2 * keys.capacity, expected)
            keys.reserveCapacity(rows)
            counts.reserveCapacity(rows)
            sums.reserveCapacity(rows * channels)
        }
        keys.append(contentsOf: other.keys.lazy.map(mapping))
        counts.append(contentsOf: other.counts)
        if shift.isIdentity {
            sums.append(contentsOf: other.sums)
        } else {
            let base = sums.count
            sums.append(contentsOf: repeatElement(0, count: other.sums.count))
            for row in 0..<other.count {
                shift.add(other.sums, from: row &* channels, width: channels, into: &sums, at: base &+ row &* channels)
            }
        }
    }

    /// Adds every row of `other` (keys translated by `mapping`) into a *dense* table, whose
    /// keys are its row numbers 0, 1, 2, …: rows are added up to the largest key, then sums go
    /// straight to their row — no hashing, no sorting. For single-role keys, whose ids are
    /// dense; the result equals `append` then `consolidate` (rows in key order, each key's sums
    /// in input order).
    mutating func mergeDense(_ other: KeyTable, decay: Decay? = nil, mapping: (UInt64) -> UInt64) {
        guard other.count > 0 else { return }
        let shift = alignAnchors(with: other, decay: decay)
        slots = []
        let targets = other.keys.map { Int(mapping($0)) }
        let rows = targets.max()! + 1
        if rows > keys.count {
            keys.append(contentsOf: UInt64(keys.count)..<UInt64(rows))
            counts.append(contentsOf: repeatElement(0, count: rows - counts.count))
            sums.append(contentsOf: repeatElement(0, count: rows * channels - sums.count))
        }
        // Rows land all over a large table: ask for the lines a few rows ahead (see
        // `IdTable.insertEach`).
        let distance = 8
        for row in 0..<other.count {
            if row + distance < other.count {
                let ahead = targets[row + distance]
                counts.prefetch(ahead, forWriting: true)
                sums.prefetch(ahead &* channels, forWriting: true)
            }
            let key = targets[row]
            counts[key] += other.counts[row]
            shift.add(other.sums, from: row &* channels, width: channels, into: &sums, at: key &* channels)
        }
    }

    /// Combines the rows of equal keys (after `append`): rows sorted by key (a stable radix
    /// sort), each key's sums added in the order its rows were appended. In place.
    /// `parts` is for tests: by default the rows are combined in one slice per core.
    mutating func consolidate(parts: Int? = nil) {
        slots = []
        radixSortRows(keys: &keys, counts: &counts, sums: &sums, width: channels)
        let distinct = combineSortedRows(parts: parts ?? Slices.count(forRows: count))
        // Mostly repeats: keep the distinct rows only, not the room for all of them.
        keepFirst(distinct, shrinking: distinct < count / 2)
        repeatsKeys = false
    }

    /// Adds the rows of each key of the sorted rows into its first row, in row order, and moves
    /// those rows to the front, in order; returns how many there are. In slices on every core,
    /// each starting at a key's first row, so that every key's rows are added by one thread in
    /// the order one thread alone would; then the slices' rows are moved together.
    private mutating func combineSortedRows(parts: Int) -> Int {
        let count = count, width = channels
        var starts = Slices.bounds(parts, of: 0..<count)
        for part in 1..<parts {
            var start = max(starts[part], starts[part - 1])
            while start > 0 && start < count && keys[start] == keys[start - 1] { start += 1 }
            starts[part] = start
        }
        var kept = [Int](repeating: 0, count: parts)
        keys.withUnsafeMutableBufferPointer { keys in
        counts.withUnsafeMutableBufferPointer { counts in
        sums.withUnsafeMutableBufferPointer { sums in
        kept.withUnsafeMutableBufferPointer { kept in
            // Each slice writes only its own rows and its own `kept` entry.
            let shared = UncheckedSendable((keys, counts, sums, kept, starts))
            Slices.forEach(parts) { part in
                let (keys, counts, sums, kept, starts) = shared.value
                let rows = starts[part]..<starts[part + 1]
                var last = rows.lowerBound - 1
                for row in rows {
                    if last >= rows.lowerBound && keys[last] == keys[row] {
                        counts[last] += counts[row]
                        for c in 0..<width { sums[last &* width &+ c] += sums[row &* width &+ c] }
                    } else {
                        last += 1
                        guard last != row else { continue }
                        keys[last] = keys[row]
                        counts[last] = counts[row]
                        for c in 0..<width { sums[last &* width &+ c] = sums[row &* width &+ c] }
                    }
                }
                kept[part] = last + 1 - rows.lowerBound
            }
        } } } }
        var next = 0
        for part in 0..<parts {
            let from = starts[part]
            if from != next {
                slideDown(&keys, from: from, to: next, count: kept[part])
                slideDown(&counts, from: from, to: next, count: kept[part])
                slideDown(&sums, from: from * width, to: next * width, count: kept[part] * width)
            }
            next += kept[part]
        }
        return next
    }

    /// Makes `other`'s anchor and this table's agree (with decay): adopts `other`'s when this
    /// table has none, moves this table's sums when `other` is so much later that adding would
    /// overflow; returns the shift for `other`'s sums.
    private mutating func alignAnchors(with other: KeyTable, decay: Decay?) -> Decay.Shift {
        guard let decay, let theirs = other.anchor else { return .identity }
        if anchor == nil { anchor = theirs }
        if decay.mustReanchor(from: anchor!, to: theirs) { reanchor(to: theirs, decay: decay) }
        return decay.shift(from: theirs, to: anchor!)
    }

    /// Moves every sum to a new anchor (exactly: v' = e^(−λΔ)·v, ∂v'/∂λ = e^(−λΔ)(∂v/∂λ − Δ·v)).
    mutating func reanchor(to time: Double, decay: Decay) {
        guard let current = anchor else { anchor = time; return }
        let shift = decay.shift(from: current, to: time)
        var scratch = [Double](repeating: 0, count: channels)
        for row in 0..<count {
            for c in 0..<channels { scratch[c] = sum(row, c) }
            shift.apply(to: &scratch)
            for c in 0..<channels { sums[row &* channels &+ c] = scratch[c] }
        }
        anchor = time
    }

    /// The row of `key`, or nil when it is absent.
    func find(_ key: UInt64) -> Int? {
        precondition(!slots.isEmpty || keys.isEmpty, "find on a table that was never indexed")
        if slots.isEmpty { return nil }
        var slot = Int(truncatingIfNeeded: mix64(key)) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if keys[Int(entry) - 1] == key { return Int(entry) - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// The row of `key`, inserting a zero row when it is new.
    @inline(__always)
    mutating func row(for key: UInt64) -> Int {
        let (slot, found) = locate(key)
        if let found { return found }
        insert(key, at: slot, count: 0, 0, 0, 0)
        return keys.count - 1
    }

    /// Where `key` is: its row, or none and the empty slot where it would go.
    @inline(__always)
    private mutating func locate(_ key: UInt64) -> (slot: Int, row: Int?) {
        if slots.isEmpty { buildIndex() }
        var slot = Int(truncatingIfNeeded: mix64(key)) & mask
        while case let entry = slots[slot], entry != 0 {
            let row = Int(entry) - 1
            if keys[row] == key { return (slot, row) }
            slot = (slot + 1) & mask
        }
        return (slot, nil)
    }

    /// Gives a new key, in the empty slot `slot` (from `locate`), a row of `count` and the sums
    /// `v0, v1, v2` (zeros in any further channel).
    @inline(__always)
    private mutating func insert(_ key: UInt64, at slot: Int, count: Int64, _ v0: Double, _ v1: Double, _ v2: Double) {
        slots[slot] = Int32(keys.count + 1)
        keys.append(key)
        counts.append(count)
        sums.append(v0)
        if channels > 1 { sums.append(v1) }
        if channels > 2 { sums.append(v2) }
        if channels > 3 { sums.append(contentsOf: repeatElement(0, count: channels - 3)) }
        if keys.count * 2 > slots.count { grow() }
    }

    private mutating func grow() {
        slots = []
        buildIndex()
    }
}

/// Moves `count` elements of `array` from `from` down to `to` (`to < from`; they may overlap).
/// Not a method: passing a table's arrays inout to one would copy them.
private func slideDown<T: BitwiseCopyable>(_ array: inout [T], from: Int, to: Int, count: Int) {
    array.withUnsafeMutableBufferPointer { buffer in
        _ = memmove(buffer.baseAddress! + to, buffer.baseAddress! + from, count * MemoryLayout<T>.stride)
    }
}
