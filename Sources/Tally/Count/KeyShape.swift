/// How a count key is made from a row's ids: `[item]`, `[user]` or `[user, item]`.
///
/// A key is one `UInt64`: a single id, or `(user << 32) | item`. Packing keeps keys of any
/// shape in one kind of table, and the numeric order of packed final indices is the order of
/// `counts.parquet`.
struct KeyShape: Sendable {
    /// The roles in the key, in key order.
    let roles: [Role]
    /// The position of each key role among the tokenized roles (`RowRules.roles`).
    let positions: [Int]

    init(key: [Pipeline.Count.KeyPart], tokenized: [Role]) {
        roles = key.compactMap { Role(rawValue: $0.rawValue) }
        positions = roles.map { tokenized.firstIndex(of: $0)! }
    }

    @inline(__always)
    func pack(_ ids: (Int32) -> Int32) -> UInt64 {
        roles.count == 1
            ? UInt64(UInt32(bitPattern: ids(0)))
            : UInt64(UInt32(bitPattern: ids(0))) << 32 | UInt64(UInt32(bitPattern: ids(1)))
    }

    /// The id of key part `part` (0 or 1) in `key`.
    @inline(__always)
    func unpack(_ key: UInt64, part: Int) -> Int32 {
        roles.count == 1 || part == 1
            ? Int32(bitPattern: UInt32(truncatingIfNeeded: key))
            : Int32(bitPattern: UInt32(truncatingIfNeeded: key >> 32))
    }

    /// `key` with each part mapped by `transform(part, id)`.
    @inline(__always)
    func map(_ key: UInt64, _ transform: (Int, Int32) -> Int32) -> UInt64 {
        pack { part in transform(Int(part), unpack(key, part: Int(part))) }
    }
}

/// The hard, weighted counter: sums each kept row's weight into its key, sparsely, in O(N + K).
struct Counter: Sendable {
    let shape: KeyShape

    /// The counts of `events`, keyed by local ids.
    func count(_ events: EventBatch) -> KeyTable {
        var table = KeyTable(capacity: max(64, events.ids.map(\.table.count).max() ?? 0))
        let positions = shape.positions
        for row in 0..<events.rowsKept {
            let key = shape.pack { part in events.localIds[positions[Int(part)]][row] }
            table.add(key: key, count: 1, value: events.weights[row])
        }
        return table
    }
}
