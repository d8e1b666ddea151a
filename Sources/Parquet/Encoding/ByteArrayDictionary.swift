#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The distinct values of a byte-array column chunk, in order of first appearance, and the
/// dictionary index of every row: what an RLE_DICTIONARY chunk stores.
///
/// Built with an open-addressing table over byte slices of the column (no `String` or array per
/// value), or, for indexed values, from the indices alone. The entry order depends only on the
/// input, never on the hash, so output bytes repeat.
struct ByteArrayDictionary {
    /// For each entry, the source row holding its value (`ByteRows`): the row of its first
    /// appearance, or for indexed values the index it stands for.
    private(set) var entrySources: [Int] = []
    /// The entry index of each row; 0 at null rows.
    private(set) var indices: [UInt32] = []
    /// Size of the PLAIN dictionary page body: 4 + length per entry.
    private(set) var plainBytes = 0

    var count: Int { entrySources.count }

    /// Bits per index in the data pages: `ceil(log2(count))`, 0 for a single entry.
    var bitWidth: Int { count <= 1 ? 0 : Int.bitWidth - (count - 1).leadingZeroBitCount }

    /// Builds the dictionary of the valid rows of `rows`, or returns nil as soon as it would
    /// hold more than `maxEntries` entries or more than `maxPlainBytes` bytes of PLAIN page.
    ///
    /// `isValid(row)` tells whether row holds a value. O(rows + bytes) expected time; for
    /// indexed values O(rows + values), without reading a value's bytes.
    static func build(_ rows: ByteRows, isValid: (Int) -> Bool, maxEntries: Int, maxPlainBytes: Int)
        -> ByteArrayDictionary? {
        if let indices = rows.indices {
            return build(indices, of: rows.source, isValid: isValid, maxEntries: maxEntries, maxPlainBytes: maxPlainBytes)
        }
        return build(rows.source, isValid: isValid, maxEntries: maxEntries, maxPlainBytes: maxPlainBytes)
    }

    /// The dictionary of rows that index `values`: an entry per index in order of first
    /// appearance, through a table from index to entry.
    private static func build(_ sources: [Int32], of values: ByteArrayColumn, isValid: (Int) -> Bool,
                              maxEntries: Int, maxPlainBytes: Int) -> ByteArrayDictionary? {
        var dictionary = ByteArrayDictionary()
        dictionary.indices = [UInt32](repeating: 0, count: sources.count)
        var entryOf = [UInt32](repeating: .max, count: values.count)
        let ok = values.offsets.withUnsafeBufferPointer { offsets in
            entryOf.withUnsafeMutableBufferPointer { entryOf in
                dictionary.indices.withUnsafeMutableBufferPointer { indices in
                    for row in sources.indices where isValid(row) {
                        let source = Int(sources[row])
                        var entry = entryOf[source]
                        if entry == .max {
                            entry = UInt32(truncatingIfNeeded: dictionary.entrySources.count)
                            dictionary.plainBytes += 4 + offsets[source + 1] - offsets[source]
                            guard Int(entry) < maxEntries, entry < UInt32.max - 1, dictionary.plainBytes <= maxPlainBytes else {
                                return false
                            }
                            entryOf[source] = entry
                            dictionary.entrySources.append(source)
                        }
                        indices[row] = entry
                    }
                    return true
                }
            }
        }
        return ok ? dictionary : nil
    }

    /// The dictionary of `column`'s own rows, hashing their bytes.
    private static func build(_ column: ByteArrayColumn, isValid: (Int) -> Bool, maxEntries: Int, maxPlainBytes: Int)
        -> ByteArrayDictionary? {
        let rows = column.count
        var dictionary = ByteArrayDictionary()
        dictionary.indices = [UInt32](repeating: 0, count: rows)
        // A slot holds 0 (empty) or the entry index + 1 in its low 32 bits and the top 32 bits of
        // the entry's hash above them, so most probes that miss never touch the entry's bytes.
        var capacity = 1024
        var slots = [UInt64](repeating: 0, count: capacity)
        // The entries' bytes, packed, and where each starts (plus the end): compared on a tag
        // match, they stay in cache where the column's bytes would not.
        var arenaCapacity = 1 << 16
        var arena = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
        defer { arena.deallocate() }
        var arenaCount = 0
        var entryStarts = [0]
        let ok = column.bytes.withUnsafeBytes { bytes -> Bool in
            column.offsets.withUnsafeBufferPointer { offsets -> Bool in
                dictionary.indices.withUnsafeMutableBufferPointer { indices -> Bool in
                    let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                    for row in 0..<rows where isValid(row) {
                        let start = offsets[row], length = offsets[row + 1] - start
                        let hash = hashBytes(base + start, length)
                        let tag = hash & 0xFFFF_FFFF_0000_0000
                        var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
                        var found = -1
                        while slots[slot] != 0 {
                            let content = slots[slot]
                            if content & 0xFFFF_FFFF_0000_0000 == tag {
                                let entry = Int(content & 0xFFFF_FFFF) - 1
                                let entryStart = entryStarts[entry]
                                if entryStarts[entry + 1] - entryStart == length
                                    && (length == 0 || memcmp(arena + entryStart, base + start, length) == 0) {
                                    found = entry
                                    break
                                }
                            }
                            slot = (slot + 1) & (capacity - 1)
                        }
                        if found >= 0 {
                            indices[row] = UInt32(found)
                            continue
                        }
                        let entry = dictionary.entrySources.count
                        dictionary.plainBytes += 4 + length
                        guard entry < maxEntries, entry < Int(UInt32.max - 1), dictionary.plainBytes <= maxPlainBytes else {
                            return false
                        }
                        slots[slot] = tag | UInt64(entry + 1)
                        dictionary.entrySources.append(row)
                        if arenaCount + length > arenaCapacity {
                            arenaCapacity = max(2 * arenaCapacity, arenaCount + length)
                            let grown = UnsafeMutableRawPointer.allocate(byteCount: arenaCapacity, alignment: 8)
                            grown.copyMemory(from: arena, byteCount: arenaCount)
                            arena.deallocate()
                            arena = grown
                        }
                        (arena + arenaCount).copyMemory(from: base + start, byteCount: length)
                        arenaCount += length
                        entryStarts.append(arenaCount)
                        indices[row] = UInt32(entry)
                        if 2 * (entry + 1) > capacity {
                            // Rehash from the entries' bytes: growing is rare (log n times).
                            capacity *= 2
                            slots = [UInt64](repeating: 0, count: capacity)
                            for index in 0..<entryStarts.count - 1 {
                                let hash = hashBytes(arena + entryStarts[index], entryStarts[index + 1] - entryStarts[index])
                                var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
                                while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
                                slots[slot] = (hash & 0xFFFF_FFFF_0000_0000) | UInt64(index + 1)
                            }
                        }
                    }
                    return true
                }
            }
        }
        return ok ? dictionary : nil
    }

    /// Appends the dictionary page body: the entries, PLAIN-encoded, in index order.
    func appendPlain(of rows: ByteRows, into out: inout [UInt8]) {
        PlainEncoder.append(rows.source, rows: entrySources, into: &out)
    }

    /// A fixed, seedless 64-bit hash of `count` bytes at `pointer`; the same on every run.
    ///
    /// Eight bytes at a time, each word mixed by a multiply and a shift, then a final avalanche
    /// (the finaliser of MurmurHash3).
    static func hashBytes(_ pointer: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var hash: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(count)
        var offset = 0
        while count - offset >= 8 {
            let word = pointer.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 29
            offset += 8
        }
        if offset < count {
            var word: UInt64 = 0
            for k in 0..<(count - offset) {
                word |= UInt64(pointer.load(fromByteOffset: offset + k, as: UInt8.self)) << UInt64(8 * k)
            }
            hash = (hash ^ word) &* 0xFF51_AFD7_ED55_8CCD
        }
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return hash
    }
}
