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
