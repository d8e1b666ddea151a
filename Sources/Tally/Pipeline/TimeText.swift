/// Durations (`7d`, `36h`, `1.5d`) and ISO-8601 instants as written in a pipeline file.
///
/// No Foundation date formatter: the result must not depend on locale or time zone settings.
enum TimeText {
    /// Seconds in `text`: a decimal number immediately followed by one unit, `s`, `m`, `h` or
    /// `d`. nil when malformed. Zero is returned as 0 (callers decide whether it is allowed).
    static func duration(_ text: String) -> Double? {
        guard let unit = text.last else { return nil }
        let scale: Double
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86400
        default: return nil
        }
        let number = text.dropLast()
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              number.filter({ $0 == "." }).count <= 1, number != ".",
              let value = Double(number), value.isFinite
        else { return nil }
        return value * scale
    }

    /// Seconds since the Unix epoch for `YYYY-MM-DDTHH:MM[:SS[.fraction]]` followed by `Z` or a
    /// `±HH:MM` / `±HHMM` / `±HH` offset; `T` may also be a space or `t`, `Z` may be `z`.
    /// nil when malformed, out of range, or without a time zone.
    static func instant(_ text: String) -> Double? {
        var scanner = Scanner(Array(text.utf8))
        guard let year = scanner.digits(4), scanner.take("-"),
              let month = scanner.digits(2), scanner.take("-"),
              let day = scanner.digits(2),
              scanner.take("T") || scanner.take("t") || scanner.take(" "),
              let hour = scanner.digits(2), scanner.take(":"),
              let minute = scanner.digits(2)
        else { return nil }
        var second = 0.0
        if scanner.take(":") {
            guard let whole = scanner.digits(2) else { return nil }
            second = Double(whole)
            if scanner.take(".") || scanner.take(",") {
                var scale = 0.1
                var any = false
                while let digit = scanner.digits(1) {
                    second += Double(digit) * scale
                    scale /= 10
                    any = true
                }
                guard any else { return nil }
            }
        }
        var offset = 0
        if scanner.take("Z") || scanner.take("z") {
            offset = 0
        } else {
            let sign: Int
            if scanner.take("+") { sign = 1 } else if scanner.take("-") { sign = -1 } else { return nil }
            guard let offsetHours = scanner.digits(2), offsetHours <= 23 else { return nil }
            var offsetMinutes = 0
            if scanner.take(":") {
                guard let minutes = scanner.digits(2) else { return nil }
                offsetMinutes = minutes
            } else if let minutes = scanner.digits(2) {
                offsetMinutes = minutes
            }
            guard offsetMinutes <= 59 else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        }
        guard scanner.atEnd,
              (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour <= 23, minute <= 59, second < 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 - offset) + second
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { index == bytes.count }

        mutating func take(_ character: Unicode.Scalar) -> Bool {
            guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
            index += 1
            return true
        }

        /// Exactly `count` ASCII digits as a number.
        mutating func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
    }
}
