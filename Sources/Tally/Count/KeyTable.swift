/// Sums per key: a count and a value for each key, in first-insertion order.
///
/// A key is a `UInt64`: one id, or a pair of ids packed as `(user << 32) | item`. The table is
/// the counter's monoid: `add(key:count:value:)` and `merge(_:mapping:)` are sums, and rows
/// keep the order in which their keys first appeared, so folding partials in input order gives
/// the same bytes for any number of workers. Sparse: memory is O(distinct keys), never a one-hot
/// matrix. Not thread-safe.
struct KeyTable {
    /// The keys, in first-insertion order.
    private(set) var keys: [UInt64] = []
    /// Rows whose own key this is.
    private(set) var counts: [Int64] = []
    /// v_k: the sum of the rows' weights.
    private(set) var values: [Double] = []
    /// 0 = empty, else row + 1.
    private var slots: [Int32]
    private var mask: Int

    init(capacity: Int = 1024) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { keys.count }

    /// Removes every key, keeping the allocated storage.
    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        counts.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        for i in slots.indices { slots[i] = 0 }
    }

    /// Adds `count` rows of total weight `value` to `key`.
    @inline(__always)
    mutating func add(key: UInt64, count: Int64, value: Double) {
        let row = self.row(for: key)
        counts[row] += count
        values[row] += value
    }

    /// Adds every row of `other`, with its keys translated by `mapping`, in `other`'s row order.
    mutating func merge(_ other: KeyTable, mapping: (UInt64) -> UInt64) {
        for i in 0..<other.count {
            add(key: mapping(other.keys[i]), count: other.counts[i], value: other.values[i])
        }
    }

    /// The row of `key`, inserting a zero row when it is new.
    @inline(__always)
    mutating func row(for key: UInt64) -> Int {
        var slot = Int(truncatingIfNeeded: mix64(key)) & mask
        while true {
            let entry = slots[slot]
            if entry == 0 { break }
            let row = Int(entry) - 1
            if keys[row] == key { return row }
            slot = (slot + 1) & mask
        }
        let row = keys.count
        keys.append(key)
        counts.append(0)
        values.append(0)
        slots[slot] = Int32(row + 1)
        if keys.count * 2 > slots.count { grow() }
        return row
    }

    private mutating func grow() {
        let size = slots.count * 2
        var newSlots = [Int32](repeating: 0, count: size)
        let newMask = size - 1
        for (row, key) in keys.enumerated() {
            var slot = Int(truncatingIfNeeded: mix64(key)) & newMask
            while newSlots[slot] != 0 { slot = (slot + 1) & newMask }
            newSlots[slot] = Int32(row + 1)
        }
        slots = newSlots
        mask = newMask
    }
}
