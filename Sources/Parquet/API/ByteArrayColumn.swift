/// Variable-length values stored as one byte buffer plus offsets; value `i` is
/// `bytes[offsets[i]..<offsets[i + 1]]`.
///
/// Invariant: `offsets` has `count + 1` entries, starts at 0, never decreases, and ends at
/// `bytes.count`. The writer checks it and throws if it is broken.
public struct ByteArrayColumn: Sendable, Hashable {
    public var bytes: [UInt8]
    public var offsets: [Int]

    /// An empty column.
    public init() {
        bytes = []
        offsets = [0]
    }

    /// A column holding the UTF-8 bytes of `strings`.
    public init(_ strings: some Sequence<String>) {
        self.init()
        for string in strings { append(string) }
    }

    /// The number of values.
    public var count: Int { offsets.count - 1 }

    /// Value `i` (0-based) as a slice of `bytes`.
    public subscript(i: Int) -> ArraySlice<UInt8> {
        bytes[offsets[i]..<offsets[i + 1]]
    }

    /// Value `i` decoded as UTF-8 (invalid sequences replaced by U+FFFD).
    public func string(at i: Int) -> String {
        String(decoding: self[i], as: UTF8.self)
    }

    /// Appends one value. Inlinable, so that callers in other modules get it specialized for
    /// their collection type (unspecialized, it looks up generic metadata on every call).
    @inlinable
    public mutating func append<C: Collection>(_ value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// Appends the UTF-8 bytes of `string`.
    public mutating func append(_ string: String) {
        append(string.utf8)
    }

    /// Reserves room for `values` more values holding `bytes` more bytes in total.
    public mutating func reserveCapacity(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(offsets.count + values)
        bytes.reserveCapacity(bytes.count + byteCount)
    }

    /// Appends the values of `other` at `indices` (in range), in their order. Room is made once,
    /// and geometrically, so that appending batch after batch never copies every time.
    mutating func append(valuesOf other: ByteArrayColumn, at indices: some Collection<some BinaryInteger>) {
        var byteCount = 0
        for index in indices { byteCount += other.offsets[Int(index) + 1] - other.offsets[Int(index)] }
        let (values, bytes) = (offsets.count + indices.count, self.bytes.count + byteCount)
        if offsets.capacity < values { offsets.reserveCapacity(max(2 * offsets.capacity, values)) }
        if self.bytes.capacity < bytes { self.bytes.reserveCapacity(max(2 * self.bytes.capacity, bytes)) }
        for index in indices { append(other[Int(index)]) }
    }

    /// Appends values `range` of `other`.
    mutating func append(contentsOf other: ByteArrayColumn, range: Range<Int>) {
        guard !range.isEmpty else { return }
        let start = other.offsets[range.lowerBound]
        let end = other.offsets[range.upperBound]
        let shift = bytes.count - start
        bytes.append(contentsOf: other.bytes[start..<end])
        // One append of a counted collection: the array grows geometrically, where reserving
        // the exact room on every call would copy the buffered offsets each time.
        offsets.append(contentsOf: other.offsets[(range.lowerBound + 1)...range.upperBound].lazy.map { $0 + shift })
    }

    /// Removes all values, keeping the storage.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsets.append(0)
    }

    /// Whether the offsets invariant holds.
    var isWellFormed: Bool {
        guard offsets.first == 0, offsets.last == bytes.count else { return false }
        var previous = 0
        for offset in offsets {
            if offset < previous { return false }
            previous = offset
        }
        return true
    }
}
