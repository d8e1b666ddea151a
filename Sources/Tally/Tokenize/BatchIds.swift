/// The distinct ids of one role in one batch, numbered 0, 1, 2, … in first-seen order, with
/// the kept rows of each.
///
/// The keys are not copied: each is a span of the batch's field bytes, which the table keeps
/// alive until the fold has moved the ids into its file's table. (For high-cardinality roles,
/// such as users in a batch of pairs, nearly every row brings a new id, and copying each one's
/// bytes cost more than finding it.) Open addressing with linear probing over a power-of-two
/// slot array sized for the batch's rows, so it never grows; a slot holds the key's 32-bit hash
/// and its id, so a mismatch is almost always rejected without reading the key.
/// Not thread-safe: a worker fills it, then hands it on.
struct BatchIds: Sendable {
    /// The bytes the spans point into.
    private let bytes: BatchBytes
    /// Per id: where its key starts in `bytes` (high 32 bits) and its length (low 32 bits).
    private var spans: [UInt64] = []
    /// Per id: its key's `idHash`, so that the fold never hashes a key again.
    private(set) var hashes: [UInt32] = []
    /// Per id: the kept rows that have it.
    private(set) var rows: [Int64] = []
    /// Per id: the physical line (1-based) of its first row; empty unless the run keeps them
    /// (`RowRules.keepsFirstLines`).
    private(set) var firstLine: [Int] = []
    /// 0 = empty, else the key's hash << 32 | (its id + 1).
    private var slots: [UInt64]
    private let mask: Int

    /// A table for at most `capacity` distinct keys of `bytes`.
    init(bytes: BatchBytes, capacity: Int) {
        precondition(bytes.count <= Int(UInt32.max), "a batch's bytes are addressed with 32-bit offsets")
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        self.bytes = bytes
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    /// A table with no keys.
    init() { self.init(bytes: BatchBytes(), capacity: 0) }

    /// The number of distinct keys.
    var count: Int { spans.count }

    /// Inserts the key of each row `i` of `rows` (`key(i)`, a span of the field bytes) in order;
    /// returns the id of each. Counts each id's rows and, with `firstLine`, keeps the line
    /// (`firstLine(i)`) of each new one.
    mutating func insert(rows count: Int, key: (Int) -> UnsafeRawBufferPointer, firstLine line: ((Int) -> Int)?) -> [Int32] {
        let capacity = (mask + 1) / 2
        precondition(spans.count + count <= capacity, "a batch's id table is sized for its rows")
        // Room for every row to bring a new id, as nearly every row does for some roles (users
        // in a batch of pairs): the per-id arrays never regrow; pages not filled cost nothing.
        spans.reserveCapacity(spans.count + count)
        hashes.reserveCapacity(spans.count + count)
        rows.reserveCapacity(spans.count + count)
        return bytes.withUnsafeBytes { bytes in
            [Int32](unsafeUninitializedCapacity: count) { ids, initialized in
                for i in 0..<count {
                    let key = key(i)
                    let hash = idHash(key)
                    let (id, inserted) = insert(key, hash: hash, in: bytes)
                    if inserted {
                        if let line { firstLine.append(line(i)) }
                        rows.append(1)
                    } else {
                        rows[Int(id)] += 1
                    }
                    ids.initializeElement(at: i, to: id)
                }
                initialized = count
            }
        }
    }

    @inline(__always)
    private mutating func insert(_ key: UnsafeRawBufferPointer, hash: UInt32, in bytes: UnsafeRawBufferPointer) -> (id: Int32, inserted: Bool) {
        let tag = UInt64(hash) << 32
        var slot = Int(hash) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            if entry & 0xFFFF_FFFF_0000_0000 == tag {
                let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                let span = spans[id]
                if Int(span & 0xFFFF_FFFF) == key.count,
                   key.isEmpty || bytesEqual(bytes.baseAddress! + Int(span >> 32), key.baseAddress!, count: key.count) {
                    return (Int32(id), false)
                }
            }
            slot = (slot + 1) & mask
        }
        let id = spans.count
        let start = key.isEmpty ? 0 : key.baseAddress! - bytes.baseAddress!
        precondition(start >= 0 && start + key.count <= bytes.count, "a key must be a span of the batch's bytes")
        spans.append(UInt64(start) << 32 | UInt64(key.count))
        hashes.append(hash)
        slots[slot] = tag | UInt64(id + 1)
        return (Int32(id), true)
    }

    /// Calls `body` with the bytes of key `id` (valid only inside `body`).
    func withKey<Result>(_ id: Int32, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let span = spans[Int(id)]
        return try bytes.withUnsafeBytes { bytes in
            try body(UnsafeRawBufferPointer(rebasing: bytes[Int(span >> 32)..<Int(span >> 32) + Int(span & 0xFFFF_FFFF)]))
        }
    }

    /// Calls `body` with every key, in id order (valid only inside `body`).
    func withKeys<Result>(_ body: (UnsafeBufferPointer<UnsafeRawBufferPointer>) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { bytes in
            let keys = spans.map { span in
                UnsafeRawBufferPointer(rebasing: bytes[Int(span >> 32)..<Int(span >> 32) + Int(span & 0xFFFF_FFFF)])
            }
            return try keys.withUnsafeBufferPointer(body)
        }
    }
}
