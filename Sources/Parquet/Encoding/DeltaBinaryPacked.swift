/// Decodes DELTA_BINARY_PACKED integers (Encodings.md) from `bytes[range]`.
///
/// Arithmetic wraps, as the format requires; INT32 callers truncate the results.
struct DeltaBinaryPackedDecoder {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    private let what: String

    init(_ bytes: [UInt8], range: Range<Int>, what: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.what = what
    }

    private func fail(_ message: String) -> ParquetError {
        ParquetError("\(what): DELTA_BINARY_PACKED \(message)")
    }

    private mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw fail("data ends inside a header") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail("varint longer than 10 bytes") }
        }
    }

    private mutating func zigzag() throws -> Int64 {
        let raw = try varint()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    /// Decodes `count` values; the stream must hold at least that many. `maxBitWidth` is the
    /// physical type's width (32 or 64).
    mutating func decode(count: Int, maxBitWidth: Int) throws -> [Int64] {
        let blockSize = try varint()
        let miniblocks = try varint()
        let total = try varint()
        var value = try zigzag()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20 else { throw fail("block size \(blockSize) is invalid") }
        guard miniblocks > 0, blockSize % miniblocks == 0, (blockSize / miniblocks) % 32 == 0 else {
            throw fail("\(miniblocks) miniblocks per block of \(blockSize) is invalid")
        }
        guard total >= UInt64(count) else { throw fail("stream holds \(total) values, page needs \(count)") }
        let perMiniblock = Int(blockSize / miniblocks)
        var values: [Int64] = []
        values.reserveCapacity(min(count, 1 << 20))
        if count > 0 { values.append(value) }
        while values.count < count {
            let minDelta = try zigzag()
            let widthsStart = position
            guard end - position >= Int(miniblocks) else { throw fail("data ends inside the bit widths") }
            position += Int(miniblocks)
            for m in 0..<Int(miniblocks) where values.count < count {
                let width = Int(bytes[widthsStart + m])
                guard width <= maxBitWidth else { throw fail("bit width \(width) exceeds \(maxBitWidth)") }
                let byteCount = perMiniblock * width / 8
                guard end - position >= byteCount else { throw fail("data ends inside a miniblock") }
                let take = min(perMiniblock, count - values.count)
                BitPacking.unpack(bytes, start: position, bitWidth: width, count: take) { delta in
                    value = value &+ minDelta &+ Int64(bitPattern: delta)
                    values.append(value)
                }
                position += byteCount
            }
        }
        return values
    }
}

/// Encodes INT32/INT64 values as DELTA_BINARY_PACKED (Encodings.md): blocks of 128 deltas in 4
/// miniblocks of 32.
///
/// Deltas wrap in the value type's width ("arithmetic in the unsigned domain"), so an INT32 column
/// never needs more than 32 bits per packed delta. A partial last miniblock is zero-padded; the
/// unused miniblocks of the last block get width 0 and no bytes.
enum DeltaBinaryPackedEncoder {
    static let blockSize = 128
    static let miniblocksPerBlock = 4
    static let miniblockSize = 32

    /// Appends the encoding of `values` (the header, then one block per 128 deltas).
    static func encode<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>, into out: inout [UInt8]) {
        appendVarint(UInt64(blockSize), to: &out)
        appendVarint(UInt64(miniblocksPerBlock), to: &out)
        appendVarint(UInt64(values.count), to: &out)
        appendVarint(zigzag(Int64(values.first ?? 0)), to: &out)
        guard values.count > 1 else { return }
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: blockSize) { adjusted in
            var next = 1
            while next < values.count {
                let count = min(blockSize, values.count - next)
                let minDelta = minimumDelta(values, from: next, count: count)
                appendVarint(zigzag(Int64(minDelta)), to: &out)
                let widthsAt = out.count
                out.append(contentsOf: repeatElement(0, count: miniblocksPerBlock))
                for miniblock in 0..<miniblocksPerBlock {
                    let start = miniblock * miniblockSize
                    guard start < count else { break }
                    let end = min(start + miniblockSize, count)
                    var union: UInt64 = 0
                    for k in start..<end {
                        let delta = wrappingDelta(values[next + k - 1], values[next + k])
                        let value = UInt64(truncatingIfNeeded: T.Magnitude(truncatingIfNeeded: delta) &- T.Magnitude(truncatingIfNeeded: minDelta))
                        adjusted[k] = value
                        union |= value
                    }
                    for k in end..<start + miniblockSize { adjusted[k] = 0 }
                    let width = UInt64.bitWidth - union.leadingZeroBitCount
                    out[widthsAt + miniblock] = UInt8(width)
                    BitPacking.pack(UnsafeBufferPointer(rebasing: adjusted[start..<start + miniblockSize]), bitWidth: width, into: &out)
                }
                next += count
            }
        }
    }

    /// The exact size `encode` would produce, without packing anything; O(n).
    static func encodedSize<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>) -> Int {
        var size = varintSize(UInt64(blockSize)) + varintSize(UInt64(miniblocksPerBlock))
            + varintSize(UInt64(values.count)) + varintSize(zigzag(Int64(values.first ?? 0)))
        var next = 1
        while next < values.count {
            let count = min(blockSize, values.count - next)
            let minDelta = minimumDelta(values, from: next, count: count)
            size += varintSize(zigzag(Int64(minDelta))) + miniblocksPerBlock
            for start in stride(from: 0, to: count, by: miniblockSize) {
                var union: T.Magnitude = 0
                for k in start..<min(start + miniblockSize, count) {
                    let delta = wrappingDelta(values[next + k - 1], values[next + k])
                    union |= T.Magnitude(truncatingIfNeeded: delta) &- T.Magnitude(truncatingIfNeeded: minDelta)
                }
                size += (T.Magnitude.bitWidth - union.leadingZeroBitCount) * miniblockSize / 8
            }
            next += count
        }
        return size
    }

    /// The smallest delta of a block: of `values[from + k]` from the value before it, k < count.
    @inline(__always)
    private static func minimumDelta<T: FixedWidthInteger & SignedInteger>(_ values: UnsafeBufferPointer<T>, from: Int, count: Int) -> T {
        var minDelta = T.max
        for k in from..<from + count {
            let delta = wrappingDelta(values[k - 1], values[k])
            if delta < minDelta { minDelta = delta }
        }
        return minDelta
    }

    /// `current - previous`, wrapping in `T`'s width.
    @inline(__always)
    private static func wrappingDelta<T: FixedWidthInteger & SignedInteger>(_ previous: T, _ current: T) -> T {
        T(truncatingIfNeeded: T.Magnitude(truncatingIfNeeded: current) &- T.Magnitude(truncatingIfNeeded: previous))
    }

    private static func zigzag(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value << 1) ^ (value >> 63))
    }

    private static func varintSize(_ value: UInt64) -> Int {
        max(1, (UInt64.bitWidth - value.leadingZeroBitCount + 6) / 7)
    }
}
