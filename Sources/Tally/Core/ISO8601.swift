/// ISO-8601 date-times: `2026-11-26`, `2026-11-26T10:00:00Z`, `2026-11-26 10:00:00.25+01:00`,
/// `2026-11-26T10:00+0100`. No Foundation formatter: the result never depends on the locale or
/// the machine's time zone.
enum ISO8601 {
    /// Seconds since the Unix epoch, or nil when `bytes` is not such a date-time. Without
    /// `zoneRequired`, a date alone is midnight UTC and a time without a zone is UTC.
    static func parse(_ bytes: UnsafeRawBufferPointer, zoneRequired: Bool) -> Double? {
        var p = Scanner(bytes: bytes)
        guard let year = p.digits(4), p.expect("-"), let month = p.digits(2), p.expect("-"),
              let day = p.digits(2), (1...12).contains(month), (1...daysIn(month, year)).contains(day)
        else { return nil }
        var seconds = Double(daysFromEpoch(year: year, month: month, day: day)) * 86_400
        if p.atEnd { return zoneRequired ? nil : seconds }
        guard p.expect("T") || p.expect(" ") || p.expect("t"),
              let hour = p.digits(2), p.expect(":"), let minute = p.digits(2), hour < 24, minute < 60
        else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if p.expect(":") {
            guard let second = p.digits(2), second < 60 else { return nil }
            seconds += Double(second)
            if p.expect(".") || p.expect(",") {
                var scale = 0.1, fraction = 0.0, any = false
                while let digit = p.digit() { fraction += Double(digit) * scale; scale /= 10; any = true }
                guard any else { return nil }
                seconds += fraction
            }
        }
        if p.atEnd { return zoneRequired ? nil : seconds }
        if p.expect("Z") || p.expect("z") { return p.atEnd ? seconds : nil }
        let sign: Double
        if p.expect("+") { sign = 1 } else if p.expect("-") { sign = -1 } else { return nil }
        guard let offsetHours = p.digits(2), offsetHours < 24 else { return nil }
        let offsetMinutes = p.expect(":") ? p.digits(2) : (p.atEnd ? 0 : p.digits(2))
        guard let offsetMinutes else { return nil }
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
