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
