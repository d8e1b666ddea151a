/// Bit-packing as Parquet uses it: values packed LSB-first, one after another, across bytes.
enum BitPacking {
    /// Appends `values` packed at `bitWidth` bits (0...32) each; the last byte is zero-padded.
    static func pack<C: Collection>(_ values: C, bitWidth: Int, into out: inout [UInt8]) where C.Element == UInt32 {
        guard bitWidth > 0 else { return }
        var buffer: UInt64 = 0
        var bits = 0
        for value in values {
            buffer |= UInt64(value) << bits
            bits += bitWidth
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: buffer))
                buffer >>= 8
                bits -= 8
            }
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: buffer)) }
    }

    /// Appends `values` packed at `bitWidth` bits (0...64) each, keeping the low bits of each
    /// value; the last byte is zero-padded. Writes whole 64-bit words while it can.
    static func pack(_ values: UnsafeBufferPointer<UInt64>, bitWidth: Int, into out: inout [UInt8]) {
        guard bitWidth > 0, !values.isEmpty else { return }
        let byteCount = (values.count * bitWidth + 7) / 8
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: byteCount))
        let mask: UInt64 = bitWidth == 64 ? .max : (1 << UInt64(bitWidth)) - 1
        out.withUnsafeMutableBytes { raw in
            var position = start
            var word: UInt64 = 0
            var bits = 0
            for value in values {
                let v = value & mask
                word |= v << UInt64(bits)
                bits += bitWidth
                if bits >= 64 {
                    raw.storeBytes(of: word.littleEndian, toByteOffset: position, as: UInt64.self)
                    position += 8
                    bits -= 64
                    // The bits of `v` that did not fit; `>>` by 64 gives 0.
                    word = bits == 0 ? 0 : v >> UInt64(bitWidth - bits)
                }
            }
            var k = 0
            while bits > 0 {
                raw[position + k] = UInt8(truncatingIfNeeded: word >> UInt64(8 * k))
                k += 1
                bits -= 8
            }
        }
    }

    /// Reads `count` values of `bitWidth` bits (0...64) starting at `bytes[start]`; the caller
    /// checks that `(count * bitWidth + 7) / 8` bytes are there.
    static func unpack(_ bytes: [UInt8], start: Int, bitWidth: Int, count: Int, _ body: (UInt64) throws -> Void) rethrows {
        guard bitWidth > 0 else {
            for _ in 0..<count { try body(0) }
            return
        }
        let mask: UInt64 = bitWidth == 64 ? .max : (1 << UInt64(bitWidth)) - 1
        var bitPosition = 0
        for _ in 0..<count {
            var value: UInt64 = 0
            var produced = 0
            while produced < bitWidth {
                let byteIndex = start + (bitPosition >> 3)
                let bitInByte = bitPosition & 7
                let take = min(8 - bitInByte, bitWidth - produced)
                let chunk = (UInt64(bytes[byteIndex]) >> UInt64(bitInByte)) & ((1 << UInt64(take)) - 1)
                value |= chunk << UInt64(produced)
                produced += take
                bitPosition += take
            }
            try body(value & mask)
        }
    }
}
