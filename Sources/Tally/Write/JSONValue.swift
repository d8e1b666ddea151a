/// A JSON value whose objects keep their keys in the order given, so `summary.json` reads in a
/// fixed, documented order.
enum JSONValue {
    case null
    case bool(Bool)
    case int(Int64)
    /// Non-finite numbers are written as `null` (JSON has no infinity).
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// Pretty-printed with two-space indentation and a final newline.
    func rendered() -> String {
        var out = ""
        render(into: &out, indent: "")
        return out + "\n"
    }

    /// On one line, without spaces (for JSON-lines logs).
    func compact() -> String {
        var out = ""
        render(into: &out, indent: nil)
        return out
    }

    /// `indent` nil: everything on one line.
    private func render(into out: inout String, indent: String?) {
        let inner = indent.map { $0 + "  " }
        let open = indent == nil ? "" : "\n", separator = indent == nil ? "," : ",\n"
        switch self {
        case .null: out += "null"
        case .bool(let value): out += value ? "true" : "false"
        case .int(let value): out += String(value)
        case .number(let value): out += value.isFinite ? "\(value)" : "null"
        case .string(let value): Self.quote(value, into: &out)
        case .array(let values):
            if values.isEmpty { out += "[]"; return }
            out += "[" + open
            for (i, value) in values.enumerated() {
                out += inner ?? ""
                value.render(into: &out, indent: inner)
                out += i + 1 < values.count ? separator : open
            }
            out += (indent ?? "") + "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            out += "{" + open
            for (i, (key, value)) in members.enumerated() {
                out += inner ?? ""
                Self.quote(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.render(into: &out, indent: inner)
                out += i + 1 < members.count ? separator : open
            }
            out += (indent ?? "") + "}"
        }
    }

    private static func quote(_ string: String, into out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
