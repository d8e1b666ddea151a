import Foundation

/// Parsers for the values of one CSV field, given as raw bytes. All are allocation-free.
enum FieldValues {
    /// Whether `bytes` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
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
    static func parseDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        let n = bytes.count
        guard n > 0, n < 64 else { return nil }
        // Only the characters of a decimal number: strtod would also take "inf", "nan" and hex.
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
