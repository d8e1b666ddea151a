import Foundation

/// Parsers for the values of one CSV field, given as raw bytes. All are allocation-free.
enum FieldValues {
    /// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        // ASCII, eight bytes at a time.
        while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        while i < n {
            let b0 = bytes[i]
            if b0 < 0x80 { i += 1; continue }
            let length: Int, minimum: UInt32
            var scalar: UInt32
            switch b0 {
            case 0xC2...0xDF: length = 2; minimum = 0x80; scalar = UInt32(b0 & 0x1F)
            case 0xE0...0xEF: length = 3; minimum = 0x800; scalar = UInt32(b0 & 0x0F)
            case 0xF0...0xF4: length = 4; minimum = 0x10000; scalar = UInt32(b0 & 0x07)
            default: return false
            }
            guard i + length <= n else { return false }
            for k in 1..<length {
                let b = bytes[i + k]
                guard b & 0xC0 == 0x80 else { return false }
                scalar = scalar << 6 | UInt32(b & 0x3F)
            }
            guard scalar >= minimum, scalar <= 0x10FFFF, !(0xD800...0xDFFF).contains(scalar) else { return false }
            i += length
        }
        return true
    }

    /// A finite decimal number (`12`, `-3.5`, `1e-3`), or nil. No surrounding spaces allowed.
    /// Correctly rounded: exact for up to 15 significant digits and powers of ten up to 22
    /// (Clinger's fast path: both parts are exact doubles, so one division or multiplication
    /// rounds once), `strtod` otherwise.
    @inline(__always)
    static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0, n < 64 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") || bytes[0] == UInt8(ascii: "+") {
            negative = bytes[0] == UInt8(ascii: "-")
            i = 1
        }
        var mantissa: UInt64 = 0, digits = 0, scale = 0, sawDigit = false
        while i < n, bytes[i] &- 48 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48); if mantissa != 0 { digits += 1 } } else { scale += 1 }
            sawDigit = true
            i += 1
        }
        if i < n, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < n, bytes[i] &- 48 < 10 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48); if mantissa != 0 { digits += 1 }; scale -= 1 }
                sawDigit = true
                i += 1
            }
        }
        guard sawDigit else { return nil }
        if i < n {
            guard bytes[i] | 0x20 == UInt8(ascii: "e") else { return nil }
            return slowParseDouble(bytes)
        }
        guard digits <= 15, scale >= -22, scale <= 22 else { return slowParseDouble(bytes) }
        // Below 10^15 · 10^22: always finite.
        var value = Double(mantissa)
        if scale < 0 { value /= powersOfTen[-scale] } else if scale > 0 { value *= powersOfTen[scale] }
        return negative ? -value : value
    }

    /// 10^0 … 10^22, every one an exact double. Written out as literals, so the compiler lays
    /// the array out at build time: reading it costs no lazy-initialisation check per call.
    private static let powersOfTen: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// `strtod` on a field of decimal-number characters (strtod alone would also take "inf",
    /// "nan" and hex).
    private static func slowParseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "-"),
                 UInt8(ascii: "+"), UInt8(ascii: "e"), UInt8(ascii: "E"): continue
            default: return nil
            }
        }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buffer -> Double? in
            for i in 0..<n { buffer[i] = CChar(bitPattern: bytes[i]) }
            buffer[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(buffer.baseAddress!, &end)
            guard end == buffer.baseAddress! + n, value.isFinite else { return nil }
            return value
        }
    }

    /// A time in seconds since the Unix epoch, in the pipeline's `time_format`, or nil.
    static func parseTime(_ bytes: UnsafeRawBufferPointer, format: Pipeline.TimeFormat) -> Double? {
        switch format {
        case .unixSeconds: return parseDouble(bytes)
        case .unixMillis: return parseDouble(bytes).map { $0 / 1000 }
        case .iso8601: return ISO8601.parse(bytes, zoneRequired: false)
        }
    }
}
