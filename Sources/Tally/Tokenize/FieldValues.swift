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
        case .iso8601: return ISO8601.parse(bytes)
        }
    }
}

/// ISO-8601 date-times: `2026-11-26`, `2026-11-26T10:00:00Z`, `2026-11-26 10:00:00.25+01:00`.
/// A time without a zone is UTC.
enum ISO8601 {
    /// Seconds since the Unix epoch, or nil when `bytes` is not such a date-time.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Double? {
        var p = Scanner(bytes: bytes)
        guard let year = p.digits(4), p.expect("-"), let month = p.digits(2), p.expect("-"),
              let day = p.digits(2), (1...12).contains(month), (1...daysIn(month, year)).contains(day)
        else { return nil }
        var seconds = Double(daysFromEpoch(year: year, month: month, day: day)) * 86_400
        if p.atEnd { return seconds }
        guard p.expect("T") || p.expect(" ") || p.expect("t"),
              let hour = p.digits(2), p.expect(":"), let minute = p.digits(2), hour < 24, minute < 60
        else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if p.expect(":") {
            guard let second = p.digits(2), second <= 60 else { return nil }
            seconds += Double(second)
            if p.expect(".") || p.expect(",") {
                var scale = 0.1, fraction = 0.0, any = false
                while let digit = p.digit() { fraction += Double(digit) * scale; scale /= 10; any = true }
                guard any else { return nil }
                seconds += fraction
            }
        }
        if p.atEnd || p.expect("Z") || p.expect("z") { return p.atEnd ? seconds : nil }
        let sign: Double
        if p.expect("+") { sign = 1 } else if p.expect("-") { sign = -1 } else { return nil }
        guard let offsetHours = p.digits(2), offsetHours < 24 else { return nil }
        _ = p.expect(":")
        let offsetMinutes = p.digits(2) ?? 0
        guard p.atEnd, offsetMinutes < 60 else { return nil }
        return seconds - sign * Double(offsetHours * 3600 + offsetMinutes * 60)
    }

    /// Days from 1970-01-01 to the given civil date (proleptic Gregorian calendar).
    static func daysFromEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var position = 0
        var atEnd: Bool { position == bytes.count }

        mutating func expect(_ character: Unicode.Scalar) -> Bool {
            guard position < bytes.count, bytes[position] == UInt8(ascii: character) else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard position < bytes.count, (48...57).contains(bytes[position]) else { return nil }
            position += 1
            return Int(bytes[position - 1] - 48)
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard let d = digit() else { return nil }
                value = value * 10 + d
            }
            return value
        }
    }
}
