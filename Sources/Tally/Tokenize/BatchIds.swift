/// The distinct ids of one role in one batch, numbered 0, 1, 2, … in first-seen order, with
/// the kept rows of each.
///
/// The keys are not copied: each is a span of the batch's field bytes, which the table keeps
/// alive until the fold has moved the ids into its file's table. (For high-cardinality roles,
/// such as users in a batch of pairs, nearly every row brings a new id, and copying each one's
/// bytes cost more than finding it.) Built in one go by `init(rows:of:key:firstLine:)`, with open
/// addressing and linear probing over a power-of-two slot array sized for the batch's rows; a
/// slot holds the key's 32-bit hash and its id, so a mismatch is almost always rejected without
/// reading the key. Rows go in one after another: the table stays in cache, where prefetching
/// (as `IdTable.insertEach` does for the fold's file tables) costs more than the misses it would
/// hide. The slots go once the rows are in: a batch waiting for the fold holds only its ids.
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
    /// The id of each kept row, in row order (until `dropRowIds()`).
    private(set) var rowIds: [Int32] = []

    /// A table with no keys.
    init() { bytes = BatchBytes() }

    /// The ids of `count` rows, row `i`'s key being `key(i)`, a span of `bytes`. Counts each
    /// id's rows and, with `firstLine`, keeps the line (`firstLine(i)`) of each new one.
    init(rows count: Int, of bytes: BatchBytes, key: (Int) -> UnsafeRawBufferPointer, firstLine line: ((Int) -> Int)?) {
        precondition(bytes.count <= Int(UInt32.max), "a batch's bytes are addressed with 32-bit offsets")
        self.bytes = bytes
        var size = 16
        while size < count * 2 { size <<= 1 }
        // 0 = empty, else the key's hash << 32 | (its id + 1).
        var slots = [UInt64](repeating: 0, count: size)
        let mask = size - 1
        // Room for every row to bring a new id, as nearly every row does for some roles (users
        // in a batch of pairs): the per-id arrays never regrow; pages not filled cost nothing.
        spans.reserveCapacity(count)
        hashes.reserveCapacity(count)
        rows.reserveCapacity(count)
        rowIds = bytes.withUnsafeBytes { bytes in
            [Int32](unsafeUninitializedCapacity: count) { ids, initialized in
                for i in 0..<count {
                    let key = key(i)
                    let hash = idHash(key)
                    let tag = UInt64(hash) << 32
                    var slot = Int(hash) & mask
                    var found: Int?
                    while case let entry = slots[slot], entry != 0 {
                        if entry & 0xFFFF_FFFF_0000_0000 == tag {
                            let id = Int(truncatingIfNeeded: entry & 0xFFFF_FFFF) - 1
                            let span = spans[id]
                            if Int(span & 0xFFFF_FFFF) == key.count,
                               key.isEmpty || bytesEqual(bytes.baseAddress! + Int(span >> 32), key.baseAddress!, count: key.count) {
                                found = id
                                break
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                    if let found {
                        rows[found] += 1
                        ids.initializeElement(at: i, to: Int32(found))
                        continue
                    }
                    let start = key.isEmpty ? 0 : key.baseAddress! - bytes.baseAddress!
                    precondition(start >= 0 && start + key.count <= bytes.count, "a key must be a span of the batch's bytes")
                    slots[slot] = tag | UInt64(spans.count + 1)
                    ids.initializeElement(at: i, to: Int32(spans.count))
                    spans.append(UInt64(start) << 32 | UInt64(key.count))
                    hashes.append(hash)
                    rows.append(1)
                    if let line { firstLine.append(line(i)) }
                }
                initialized = count
            }
        }
    }

    /// The number of distinct keys.
    var count: Int { spans.count }

    /// Frees the row ids once the rows are counted.
    mutating func dropRowIds() { rowIds = [] }

    /// Calls `body` with the bytes of key `id` (valid only inside `body`).
    func withKey<Result>(_ id: Int32, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { bytes in try body(Self.key(spans[Int(id)], in: bytes)) }
    }

    /// Calls `body` with every key, in id order (valid only inside `body`).
    func withKeys<Result>(_ body: (UnsafeBufferPointer<UnsafeRawBufferPointer>) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes { bytes in
            try spans.map { Self.key($0, in: bytes) }.withUnsafeBufferPointer(body)
        }
    }

    /// The key a span (start << 32 | length) marks in `bytes`.
    private static func key(_ span: UInt64, in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let start = Int(span >> 32)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<start + Int(span & 0xFFFF_FFFF)])
    }
}
