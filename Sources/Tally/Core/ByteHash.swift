import Foundation

/// A fixed, seedless 64-bit hash of a byte string.
///
/// Unlike Swift's `Hasher`, which is seeded per process, the result is the same in every run,
/// so anything derived from it (table layouts, iteration orders) repeats exactly. It reads eight
/// bytes at a time and finishes with the MurmurHash3 64-bit mixer.
@inline(__always)
func byteHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let multiplier: UInt64 = 0x9E37_79B9_7F4A_7C15
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ (UInt64(bytes.count) &* multiplier)
    var i = 0
    let count = bytes.count
    guard let base = bytes.baseAddress else { return mix64(h) }
    while i + 8 <= count {
        let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ word) &* multiplier
        h = (h << 29) | (h >> 35)
        i += 8
    }
    if i < count {
        // The last 1…7 bytes, in at most three loads.
        var tail: UInt64 = 0, shift: UInt64 = 0
        if count - i >= 4 { tail = UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt32.self)); shift = 32; i += 4 }
        if count - i >= 2 { tail |= UInt64(base.loadUnaligned(fromByteOffset: i, as: UInt16.self)) << shift; shift += 16; i += 2 }
        if count - i >= 1 { tail |= UInt64(base.load(fromByteOffset: i, as: UInt8.self)) << shift }
        h = (h ^ tail) &* multiplier
    }
    return mix64(h)
}

/// The 32-bit hash an `IdTable` and a `BatchIds` keep per id: `byteHash`'s halves folded together.
/// Half the room of the full hash per distinct id (4 MB for the benchmark log's 815k items), and
/// enough: its low bits pick the slot, and the bits kept in the slot (the high 24 in an `IdTable`,
/// all 32 in a `BatchIds`) are compared before the bytes, so two keys that meet in a probe almost
/// always differ there (two keys from the same slot but for one time in 2^(32 − log2 slots), 2048
/// for 2M slots; from neighbouring slots, but for one time in 2^24 or so), and only then do their
/// bytes decide.
@inline(__always)
func idHash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    let hash = byteHash(bytes)
    return UInt32(truncatingIfNeeded: hash ^ hash >> 32)
}

/// The MurmurHash3 finaliser: spreads every input bit over every output bit.
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var h = value
    h ^= h >> 33
    h &*= 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h &*= 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h
}

/// Whether the `count` bytes at `a` and at `b` are equal. Ids are short: up to 16 bytes are
/// compared in two overlapping loads from each side, with no call (a call to `memcmp` per
/// lookup was 5% of a run); longer ones go to `memcmp`. Reads only within the `count` bytes.
@inline(__always)
func bytesEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, count: Int) -> Bool {
    func words<T: FixedWidthInteger>(_: T.Type) -> Bool {
        let last = count - MemoryLayout<T>.size
        return a.loadUnaligned(as: T.self) == b.loadUnaligned(as: T.self)
            && a.loadUnaligned(fromByteOffset: last, as: T.self) == b.loadUnaligned(fromByteOffset: last, as: T.self)
    }
    switch count {
    case 0: return true
    case 1...3:
        let middle = count / 2
        return a.load(as: UInt8.self) == b.load(as: UInt8.self)
            && a.load(fromByteOffset: middle, as: UInt8.self) == b.load(fromByteOffset: middle, as: UInt8.self)
            && a.load(fromByteOffset: count - 1, as: UInt8.self) == b.load(fromByteOffset: count - 1, as: UInt8.self)
    case 4...8: return words(UInt32.self)
    case 9...16: return words(UInt64.self)
    default: return memcmp(a, b, count) == 0
    }
}

/// Whether the `aCount` bytes at `a` come before the `bCount` bytes at `b` in byte order (a
/// prefix first).
@inline(__always)
func bytesPrecede(_ a: UnsafeRawPointer, _ aCount: Int, _ b: UnsafeRawPointer, _ bCount: Int) -> Bool {
    let order = memcmp(a, b, min(aCount, bCount))
    return order != 0 ? order < 0 : aCount < bCount
}
