import Foundation

/// Maps byte strings to dense `Int32` ids in first-insertion order: 0, 1, 2, …
///
/// Open addressing with linear probing over a power-of-two slot array. Each key is a record in
/// one buffer, in id order: its id and its length (4 bytes each), then its bytes. A slot holds
/// where the key's bytes start and 24 bits of its 32-bit hash (`idHash`), so most mismatches
/// are rejected without touching the records, and a lookup reads two cache lines: the slot, then
/// the record with the id, the length and the bytes together. (With the ids in the slots and
/// the keys' bounds in an array by id, a lookup in a table out of the cache waited for three.)
/// No allocation per lookup.
/// Not thread-safe: the fold owns the files' and the run's tables (a batch's ids are `BatchIds`).
struct IdTable {
    /// The records, in id order.
    private var records: [UInt8] = []
    /// `starts[id]`: where key `id`'s bytes start in `records`.
    private var starts: [Int] = []
    /// The hash of each key, so that moving keys to another table never hashes them again.
    private(set) var hashes: [UInt32] = []
    /// 0 = empty, else (hash >> 8) << 40 | the start of the key's bytes (never 0: the record's
    /// id and length come first).
    private var slots: [UInt64]
    private var mask: Int

    private static let headerBytes = 8
    private static let startBits: UInt64 = 40

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// The table of the keys in `keys`, back to back (ending where `ends` says, hashed as
    /// `hashes` says), in that order; nil unless each hash is its key's and the keys are
    /// distinct.
    init?(keys: [UInt8], ends: [Int], hashes: [UInt32]) {
        guard ends.count == hashes.count else { return nil }
        self.init(capacity: ends.count)
        var start = 0
        for (end, hash) in zip(ends, hashes) {
            guard end >= start, end <= keys.count else { return nil }
            let inserted = keys[start..<end].withUnsafeBytes { key in
                idHash(key) == hash && insert(key, hash: hash).inserted
            }
            guard inserted else { return nil }
            start = end
        }
    }

    /// The number of distinct keys.
    var count: Int { starts.count }

    /// The bytes of every key, in all.
    var keyByteCount: Int { records.count - count * Self.headerBytes }

    /// Calls `body` with each key's bytes, in id order: the keys back to back, as a table is
    /// saved (with `keyEnds`).
    func forEachKey(_ body: (UnsafeRawBufferPointer) -> Void) {
        for id in 0..<count { withKey(Int32(id), body) }
    }

    /// One past the last byte of each key, the keys back to back in id order.
    var keyEnds: [Int] {
        var end = 0
        return (0..<count).map { id in
            end += keyLength(Int32(id))
            return end
        }
    }

    /// Lets go of what finding and inserting keys take (the slots and the hashes), keeping the
    /// keys: for a table only read by id from then on. Looking a key up or inserting one
    /// afterwards traps.
    mutating func dropIndex() {
        slots = []
        hashes = []
        mask = 0
    }

    /// Where key `id`'s bytes sit in `records`.
    @inline(__always)
    private func bounds(_ id: Int32) -> Range<Int> {
        let start = starts[Int(id)]
        return start..<start + storedLength(at: start)
    }

    /// The length of the key whose bytes start at `start`, from its record.
    @inline(__always)
    private func storedLength(at start: Int) -> Int {
        records.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: start - 4, as: UInt32.self)) }
    }

    /// The bytes of key `id`.
    func key(_ id: Int32) -> ArraySlice<UInt8> { records[bounds(id)] }

    /// The length in bytes of key `id`.
    func keyLength(_ id: Int32) -> Int { bounds(id).count }

    /// Calls `body` with the bytes of key `id` (valid only inside `body`).
    @inline(__always)
    func withKey<Result>(_ id: Int32, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let bounds = bounds(id)
        return try records.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[bounds])) }
    }

    /// Whether key `a` comes before key `b` in byte order.
    func keyPrecedes(_ a: Int32, _ b: Int32) -> Bool {
        let (x, y) = (bounds(a), bounds(b))
        return records.withUnsafeBytes { bytesPrecede($0.baseAddress! + x.lowerBound, x.count, $0.baseAddress! + y.lowerBound, y.count) }
    }

    /// The id of `key`, or nil when it is absent.
    func find(_ key: UnsafeRawBufferPointer) -> Int32? {
        find(key, hash: idHash(key))
    }

    func find(_ key: UnsafeRawBufferPointer, hash: UInt32) -> Int32? {
        switch probe(key, hash: hash) {
        case .found(let id): id
        case .absent: nil
        }
    }

    /// The id of `key`, inserting it with the next id when it is new.
    @discardableResult
    mutating func insert(_ key: UnsafeRawBufferPointer) -> (id: Int32, inserted: Bool) {
        insert(key, hash: idHash(key))
    }

    mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt32) -> (id: Int32, inserted: Bool) {
        let slot: Int
        switch probe(key, hash: hash) {
        case .found(let id): return (id, false)
        case .absent(let empty): slot = empty
        }
        let id = Int32(starts.count)
        let header = UInt64(UInt32(id)) | UInt64(UInt32(key.count)) << 32
        // Appended as typed bytes, which Array copies at once (a raw buffer goes byte by byte).
        withUnsafeBytes(of: header) { $0.withMemoryRebound(to: UInt8.self) { records.append(contentsOf: $0) } }
        let start = records.count
        key.withMemoryRebound(to: UInt8.self) { records.append(contentsOf: $0) }
        starts.append(start)
        hashes.append(hash)
        slots[slot] = slotEntry(hash: hash, start: start)
        if starts.count * 2 > slots.count { grow() }
        return (id, true)
    }

    private enum Probe {
        case found(Int32)
        /// The empty slot where the key would go.
        case absent(Int)
    }

    @inline(__always)
    private func probe(_ key: UnsafeRawBufferPointer, hash: UInt32) -> Probe {
        let tag = UInt64(hash >> 8)
        var slot = Int(hash) & mask
        return records.withUnsafeBytes { records in
            while true {
                let entry = slots[slot]
                if entry == 0 { return .absent(slot) }
                if entry >> Self.startBits == tag {
                    let start = Int(entry & (1 << Self.startBits - 1))
                    if Int(records.loadUnaligned(fromByteOffset: start - 4, as: UInt32.self)) == key.count,
                       key.isEmpty || bytesEqual(records.baseAddress! + start, key.baseAddress!, count: key.count) {
                        return .found(records.loadUnaligned(fromByteOffset: start - 8, as: Int32.self))
                    }
                }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    private func slotEntry(hash: UInt32, start: Int) -> UInt64 {
        precondition(start < 1 << Self.startBits, "an id table holds at most 1 TiB of ids")
        return UInt64(hash >> 8) << Self.startBits | UInt64(start)
    }

    /// Inserts `keys` in order (with their hashes); returns the id of each. The same as calling
    /// `insert` for each, but faster: a lookup in a table out of the cache waits for two lines
    /// (the slot, then the key's record), so while one key is resolved, those of the keys a few
    /// places ahead are already on their way (prefetched in stages), and the misses overlap
    /// instead of queueing. The prefetches are hints read from the table as it is; a key
    /// inserted or a table grown in between only costs one miss.
    mutating func insertEach(_ keys: UnsafeBufferPointer<UnsafeRawBufferPointer>, hashes: UnsafeBufferPointer<UInt32>) -> [Int32] {
        precondition(keys.count == hashes.count)
        let count = keys.count, distance = 8
        var ids = [Int32](repeating: 0, count: count)
        for step in 0..<(count + 2 * distance) {
            if step < count {
                slots.prefetch(slotIndex(hashes[step]))
            }
            if case 0..<count = step - distance, let start = likelyStart(hashes[step - distance]) {
                records.prefetch(start - Self.headerBytes)
            }
            let i = step - 2 * distance
            if i >= 0 {
                ids[i] = insert(keys[i], hash: hashes[i]).id
            }
        }
        return ids
    }

    /// Asks for the cache line of where key `id` starts: the first stage of reading keys in an
    /// order of their own, a few keys ahead of `prefetchKey`.
    @inline(__always)
    func prefetchStart(_ id: Int32) { starts.prefetch(Int(id)) }

    /// Asks for the first cache line of key `id`'s record.
    @inline(__always)
    func prefetchKey(_ id: Int32) { records.prefetch(starts[Int(id)] - Self.headerBytes) }

    @inline(__always)
    private func slotIndex(_ hash: UInt32) -> Int { Int(hash) & mask }

    /// Where the bytes start of the key in the first slot `hash` probes, if its tag matches:
    /// usually the key's, but only a hint (it may be another key's).
    @inline(__always)
    private func likelyStart(_ hash: UInt32) -> Int? {
        let entry = slots[slotIndex(hash)]
        guard entry != 0, entry >> Self.startBits == UInt64(hash >> 8) else { return nil }
        return Int(entry & (1 << Self.startBits - 1))
    }

    private mutating func grow() {
        let size = slots.count * 2
        var newSlots = [UInt64](repeating: 0, count: size)
        let newMask = size - 1
        for (hash, start) in zip(hashes, starts) {
            var slot = Int(hash) & newMask
            while newSlots[slot] != 0 { slot = (slot + 1) & newMask }
            newSlots[slot] = slotEntry(hash: hash, start: start)
        }
        slots = newSlots
        mask = newMask
    }
}
