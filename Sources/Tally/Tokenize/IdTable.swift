import Foundation

/// Maps byte strings to dense `Int32` ids in first-insertion order: 0, 1, 2, …
///
/// Open addressing with linear probing over a power-of-two slot array; each slot holds the id
/// plus one and the key's 32-bit hash (`idHash`), so most mismatches are rejected without
/// touching the key bytes. Keys live back to back in one arena, in id order. No allocation per
/// lookup.
/// Not thread-safe: each worker owns its own tables.
struct IdTable {
    /// Key bytes, back to back in id order.
    private(set) var arena: [UInt8] = []
    /// `ends[id]` is one past the last byte of key `id` in `arena`.
    private(set) var ends: [Int] = []
    /// The hash of each key, so that moving keys to another table never hashes them again.
    private(set) var hashes: [UInt32] = []
    /// 0 = empty, else (hash << 32) | (id + 1).
    private var slots: [UInt64]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// The table of the keys in `arena` (ends and hashes as `arena`, `ends` and `hashes` give
    /// them), in that order; nil unless each hash is its key's and the keys are distinct.
    init?(arena: [UInt8], ends: [Int], hashes: [UInt32]) {
        guard ends.count == hashes.count else { return nil }
        self.init(capacity: ends.count)
        var start = 0
        for (end, hash) in zip(ends, hashes) {
            guard end >= start, end <= arena.count else { return nil }
            let inserted = arena[start..<end].withUnsafeBytes { key in
                idHash(key) == hash && insert(key, hash: hash).inserted
            }
            guard inserted else { return nil }
            start = end
        }
    }

    /// The number of distinct keys.
    var count: Int { ends.count }

    /// Lets go of what finding and inserting keys take (the slots and the hashes, half of the
    /// table), keeping the keys: for a table only read by id from then on. Looking a key up or
    /// inserting one afterwards traps.
    mutating func dropIndex() {
        slots = []
        hashes = []
        mask = 0
    }

    /// Where key `id`'s bytes sit in `arena`.
    @inline(__always)
    private func bounds(_ id: Int32) -> Range<Int> {
        let i = Int(id)
        return (i == 0 ? 0 : ends[i - 1])..<ends[i]
    }

    /// The bytes of key `id`.
    func key(_ id: Int32) -> ArraySlice<UInt8> { arena[bounds(id)] }

    /// The length in bytes of key `id`.
    func keyLength(_ id: Int32) -> Int { bounds(id).count }

    /// Calls `body` with the bytes of key `id` (valid only inside `body`).
    @inline(__always)
    func withKey<Result>(_ id: Int32, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let bounds = bounds(id)
        return try arena.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[bounds])) }
    }

    /// Whether key `a` comes before key `b` in byte order.
    func keyPrecedes(_ a: Int32, _ b: Int32) -> Bool {
        let (x, y) = (bounds(a), bounds(b))
        let order = arena.withUnsafeBytes { memcmp($0.baseAddress! + x.lowerBound, $0.baseAddress! + y.lowerBound, min(x.count, y.count)) }
        return order != 0 ? order < 0 : x.count < y.count
    }

    /// The id of `key`, or nil when it is absent.
    func find(_ key: UnsafeRawBufferPointer) -> Int32? {
        find(key, hash: idHash(key))
    }

    func find(_ key: UnsafeRawBufferPointer, hash: UInt32) -> Int32? {
        let tag = UInt64(hash)
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { return nil }
            if entry >> 32 == tag {
                let id = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if keyEquals(id, key) { return id }
            }
            slot = (slot + 1) & mask
        }
    }

    /// The id of `key`, inserting it with the next id when it is new.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer) -> (id: Int32, inserted: Bool) {
        insert(key, hash: idHash(key))
    }

    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt32) -> (id: Int32, inserted: Bool) {
        let tag = UInt64(hash)
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry >> 32 == tag {
                let id = Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                if keyEquals(id, key) { return (id, false) }
            }
            slot = (slot + 1) & mask
        }
        let id = Int32(ends.count)
        arena.append(contentsOf: key)
        ends.append(arena.count)
        hashes.append(hash)
        slots[slot] = (tag << 32) | UInt64(id + 1)
        if ends.count * 2 > slots.count { grow() }
        return (id, true)
    }

    /// Inserts every key of `other`, in `other`'s id order (so new keys get ids in that order);
    /// returns the id here of each of `other`'s keys.
    mutating func insertAll(of other: IdTable) -> [Int32] {
        other.arena.withUnsafeBytes { arena in
            let keys = [UnsafeRawBufferPointer](unsafeUninitializedCapacity: other.count) { keys, initialized in
                var start = 0
                for (i, end) in other.ends.enumerated() {
                    keys.initializeElement(at: i, to: UnsafeRawBufferPointer(rebasing: arena[start..<end]))
                    start = end
                }
                initialized = other.count
            }
            return keys.withUnsafeBufferPointer { keys in
                other.hashes.withUnsafeBufferPointer { insertEach(keys, hashes: $0) }
            }
        }
    }

    /// Inserts `keys` in order (with their hashes); returns the id of each. The same as calling
    /// `insert` for each, but faster: a lookup in a table out of the cache waits for three lines
    /// (the slot, the key's end, its bytes), so while one key is resolved, those of the keys a
    /// few places ahead are already on their way (prefetched in stages), and the misses overlap
    /// instead of queueing. The prefetches are hints read from the table as it is; a key
    /// inserted or a table grown in between only costs one miss.
    mutating func insertEach(_ keys: UnsafeBufferPointer<UnsafeRawBufferPointer>, hashes: UnsafeBufferPointer<UInt32>) -> [Int32] {
        precondition(keys.count == hashes.count)
        let count = keys.count, distance = 8
        var ids = [Int32](repeating: 0, count: count)
        for step in 0..<(count + 3 * distance) {
            if step < count {
                slots.prefetch(slotIndex(hashes[step]))
            }
            if case 0..<count = step - distance, let id = likelyId(hashes[step - distance]) {
                prefetchBounds(id)
            }
            if case 0..<count = step - 2 * distance, let id = likelyId(hashes[step - 2 * distance]) {
                prefetchKey(id)
            }
            let i = step - 3 * distance
            if i >= 0 {
                ids[i] = insert(keys[i], hash: hashes[i]).id
            }
        }
        return ids
    }

    /// Asks for the cache line of key `id`'s bounds: the first stage of reading keys in an
    /// order of their own (see `insertEach`), a few keys ahead of `prefetchKey`.
    @inline(__always)
    func prefetchBounds(_ id: Int32) { ends.prefetch(max(0, Int(id) - 1)) }

    /// Asks for the first cache line of key `id`'s bytes.
    @inline(__always)
    func prefetchKey(_ id: Int32) { arena.prefetch(bounds(id).lowerBound) }

    @inline(__always)
    private func slotIndex(_ hash: UInt32) -> Int { Int(hash) & mask }

    /// The id in the first slot `hash` probes, if its tag matches: usually the key's id, but only
    /// a hint (it may be another key's).
    @inline(__always)
    private func likelyId(_ hash: UInt32) -> Int32? {
        let entry = slots[slotIndex(hash)]
        guard entry != 0, entry >> 32 == UInt64(hash) else { return nil }
        return Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
    }

    private func keyEquals(_ id: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        let bounds = bounds(id)
        guard bounds.count == key.count else { return false }
        if bounds.isEmpty { return true }
        return arena.withUnsafeBytes { stored in bytesEqual(stored.baseAddress! + bounds.lowerBound, key.baseAddress!, count: bounds.count) }
    }

    private mutating func grow() {
        let size = slots.count * 2
        var newSlots = [UInt64](repeating: 0, count: size)
        let newMask = size - 1
        for (i, hash) in hashes.enumerated() {
            var slot = Int(hash) & newMask
            while newSlots[slot] != 0 { slot = (slot + 1) & newMask }
            newSlots[slot] = UInt64(hash) << 32 | UInt64(i + 1)
        }
        slots = newSlots
        mask = newMask
    }
}
