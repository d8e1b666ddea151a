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

    /// Seconds since the Unix epoch for an ISO-8601 date-time with a zone (`Z` or an offset);
    /// nil when malformed, out of range, or without a zone.
    static func instant(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBytes { ISO8601.parse($0, zoneRequired: true) }
    }
}
