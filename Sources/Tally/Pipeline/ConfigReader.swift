import Foundation
import Yams

/// Walks a composed YAML tree by hand, collecting every problem as a located `TallyError`.
///
/// Getters return nil both for an absent value and for a bad one; a bad one has been reported
/// and its key path is in `failed`, so later cross-field checks can stay quiet about it.
/// `${name}` is substituted in every scalar value (never in keys) before it is interpreted.
final class ConfigReader {
    /// The pipeline file as given: the path in every error.
    let path: String
    /// The absolute folder relative paths are resolved against.
    let folder: String
    let variables: [String: String]

    private(set) var errors: [TallyError] = []
    /// Key paths (`count.key`, `input.paths[2]`) whose value was reported as bad.
    private(set) var failed: Set<String> = []
    /// The variables that some value referenced, with their values.
    private(set) var usedVariables: [String: String] = [:]
    /// Where each key seen was written, by key path (`count.smoothing`).
    private(set) var keyLocations: [String: InputLocation] = [:]
    /// The scalar elements of each list read, by the list's key path, with their locations.
    private(set) var listElementLocations: [String: [(text: String, location: InputLocation)]] = [:]

    init(path: String, folder: String, variables: [String: String]) {
        self.path = path
        self.folder = folder
        self.variables = variables
    }

    // MARK: Locations and errors

    func location(_ mark: Mark?) -> InputLocation {
        InputLocation(path: path, line: mark?.line, column: mark?.column)
    }

    func report(_ message: String, at location: InputLocation?) {
        errors.append(TallyError(.config, stage: .pipeline, at: location ?? InputLocation(path: path), message))
    }

    /// Reports a problem with the value at `value.path`, marking that path as failed.
    func report(_ message: String, about value: Value) {
        failed.insert(value.path)
        report("\(value.path): \(message)", at: value.location)
    }

    /// Whether the value at `keyPath`, or a section holding it, was reported as bad or missing.
    func hasFailed(_ keyPath: String) -> Bool {
        var path = Substring(keyPath)
        while true {
            if failed.contains(String(path)) { return true }
            guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { return false }
            path = path[..<cut]
        }
    }

    /// Where the key `keyPath` was written, if it was.
    func keyLocation(_ keyPath: String) -> InputLocation? {
        keyLocations[keyPath]
    }

    // MARK: Values

    /// A value node with its key path and location.
    struct Value {
        var node: Node
        /// `input.columns.item`, `input.paths[0]`.
        var path: String
        var location: InputLocation

        var isNull: Bool {
            guard case .scalar(let scalar) = node, scalar.style == .plain else { return false }
            return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        }

        /// True for an unquoted scalar.
        var isPlain: Bool {
            if case .scalar(let scalar) = node { return scalar.style == .plain }
            return false
        }
    }

    func value(_ node: Node, path: String) -> Value {
        Value(node: node, path: path, location: location(node.mark))
    }

    /// How a found value is shown in a message: `'abc'`, `a list`, `a mapping`, `nothing`.
    func describe(_ value: Value) -> String {
        if value.isNull { return "nothing" }
        switch value.node {
        case .scalar(let scalar): return "'\(scalar.string)'"
        case .sequence: return "a list"
        case .mapping: return "a mapping"
        case .alias: return "an alias"
        }
    }

    // MARK: Mappings

    /// A mapping section, its unknown keys already reported.
    struct Section {
        /// `input`, `count.decay`; empty at the top level.
        var path: String
        /// Where the section's key (or, at the top, the mapping) was written.
        var location: InputLocation
        var entries: [Entry]

        struct Entry {
            var key: String
            /// True when the key was written unquoted.
            var keyIsPlain: Bool
            var keyLocation: InputLocation
            var value: Value
        }

        func contains(_ key: String) -> Bool {
            entries.contains { $0.key == key }
        }

        /// Whether the key is present with a non-null value.
        func has(_ key: String) -> Bool {
            self[key] != nil
        }

        /// The value of `key`, or nil when absent or null.
        subscript(_ key: String) -> Value? {
            guard let entry = entries.first(where: { $0.key == key }), !entry.value.isNull else { return nil }
            return entry.value
        }

        func keyPath(_ key: String) -> String {
            path.isEmpty ? key : "\(path).\(key)"
        }

        /// `in input.columns`, or empty at the top level.
        var inClause: String {
            path.isEmpty ? "" : " in \(path)"
        }
    }

    /// Reads `value` as a mapping whose keys must be among `allowed` (in the order shown in
    /// messages). A null value reads as an empty mapping; nil for anything else that is not a
    /// mapping (reported).
    func section(_ value: Value, allowed: [String]?, at keyLocation: InputLocation? = nil) -> Section? {
        var section = Section(path: value.path, location: keyLocation ?? value.location, entries: [])
        if value.isNull { return section }
        guard case .mapping(let mapping) = value.node else {
            report("expected a mapping, found \(describe(value))", about: value)
            return nil
        }
        for (keyNode, valueNode) in mapping {
            let keyLocation = location(keyNode.mark)
            guard case .scalar(let keyScalar) = keyNode else {
                report("expected a plain key\(section.inClause), found \(keyNode.sequence != nil ? "a list" : "a mapping")",
                       at: keyLocation)
                continue
            }
            let key = keyScalar.string
            if let allowed, !allowed.contains(key) {
                report("unknown key '\(key)'\(section.inClause) (expected one of: \(allowed.joined(separator: ", ")))",
                       at: keyLocation)
                continue
            }
            let keyPath = section.keyPath(key)
            keyLocations[keyPath] = keyLocation
            section.entries.append(Section.Entry(key: key, keyIsPlain: keyScalar.style == .plain,
                                                 keyLocation: keyLocation,
                                                 value: self.value(valueNode, path: keyPath)))
        }
        return section
    }

    /// The sub-section under `key`, or nil when absent (or not a mapping, reported).
    func section(_ key: String, in parent: Section, allowed: [String]?) -> Section? {
        guard let entry = parent.entries.first(where: { $0.key == key }) else { return nil }
        return section(entry.value, allowed: allowed, at: entry.keyLocation)
    }

    /// The value of a required key; reports it missing (at the section) when absent or null.
    func required(_ key: String, in section: Section) -> Value? {
        if let value = section[key] { return value }
        if let entry = section.entries.first(where: { $0.key == key }) {
            report("\(entry.value.path): expected a value, found nothing", at: entry.keyLocation)
            failed.insert(entry.value.path)
        } else {
            report("missing required key '\(key)'\(section.inClause)", at: section.location)
            failed.insert(section.keyPath(key))
        }
        return nil
    }

    // MARK: Scalars

    /// The text of a scalar with `${name}` substituted; nil (reported) for a list or mapping, an
    /// unset variable or a malformed reference.
    func text(_ value: Value, expected: String) -> String? {
        guard case .scalar(let scalar) = value.node else {
            report("expected \(expected), found \(describe(value))", about: value)
            return nil
        }
        return substitute(scalar.string, in: value)
    }

    private func substitute(_ text: String, in value: Value) -> String? {
        guard text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        var ok = true
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            let afterOpen = rest[start.upperBound...]
            guard let close = afterOpen.firstIndex(of: "}") else {
                report("unterminated '${' in '\(text)'", about: value)
                return nil
            }
            let name = String(afterOpen[..<close])
            if !Self.isVariableName(name) {
                report("'${\(name)}' is not a variable reference (names are letters, digits and '_')", about: value)
                ok = false
            } else if let replacement = variables[name] {
                usedVariables[name] = replacement
                result += replacement
            } else {
                report("unset variable '\(name)' (give it with --var \(name)=VALUE)", about: value)
                ok = false
            }
            rest = afterOpen[afterOpen.index(after: close)...]
        }
        result += rest
        return ok ? result : nil
    }

    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
    }

    func string(_ value: Value) -> Located<String>? {
        text(value, expected: "a string").map { Located($0, at: value.location) }
    }

    func bool(_ value: Value) -> Bool? {
        guard let text = text(value, expected: "true or false") else { return nil }
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            report("expected true or false, found '\(text)'", about: value)
            return nil
        }
    }

    /// An integer (digits, optional sign, `_` separators) within `range`.
    func integer(_ value: Value, in range: ClosedRange<Int>? = nil, constraint: String? = nil) -> Int? {
        guard let text = text(value, expected: "an integer") else { return nil }
        guard let number = Self.parseInteger(text) else {
            report("expected an integer, found '\(text)'", about: value)
            return nil
        }
        if let range, !range.contains(number) {
            report("\(constraint ?? Self.describe(range)), found \(number)", about: value)
            return nil
        }
        return number
    }

    static func parseInteger(_ text: String) -> Int? {
        let digits = text.replacingOccurrences(of: "_", with: "")
        guard !digits.isEmpty,
              digits.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "-" || $0 == "+" })
        else { return nil }
        return Int(digits)
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        if range.upperBound == .max { return "must be at least \(range.lowerBound)" }
        return "must be between \(range.lowerBound) and \(range.upperBound)"
    }

    /// A finite decimal number.
    func number(_ value: Value) -> Double? {
        guard let text = text(value, expected: "a number") else { return nil }
        guard let number = Self.parseNumber(text) else {
            report("expected a number, found '\(text)'", about: value)
            return nil
        }
        return number
    }

    static func parseNumber(_ text: String) -> Double? {
        let cleaned = text.replacingOccurrences(of: "_", with: "")
        guard !cleaned.isEmpty,
              cleaned.unicodeScalars.allSatisfy({ "0123456789+-.eE".unicodeScalars.contains($0) }),
              let number = Double(cleaned), number.isFinite
        else { return nil }
        return number
    }

    /// A number that must be greater than `bound`.
    func number(_ value: Value, greaterThan bound: Double) -> Double? {
        guard let number = number(value) else { return nil }
        guard number > bound else {
            report("must be greater than \(Self.format(bound)), found \(Self.format(number))", about: value)
            return nil
        }
        return number
    }

    static func format(_ number: Double) -> String {
        number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    /// One of an enumeration's raw values.
    func choice<E: RawRepresentable & CaseIterable>(_ value: Value, _ type: E.Type) -> E? where E.RawValue == String {
        guard let text = text(value, expected: "one of: \(Self.names(of: type))") else { return nil }
        guard let result = E(rawValue: text) else {
            report("unknown value '\(text)' (expected one of: \(Self.names(of: type)))", about: value)
            return nil
        }
        return result
    }

    static func names<E: RawRepresentable & CaseIterable>(of type: E.Type) -> String where E.RawValue == String {
        type.allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// A list's elements with paths `key[i]`; nil (reported) when not a list.
    func list(_ value: Value) -> [Value]? {
        guard case .sequence(let sequence) = value.node else {
            report("expected a list, found \(describe(value))", about: value)
            return nil
        }
        let elements = sequence.enumerated().map { index, node in self.value(node, path: "\(value.path)[\(index)]") }
        listElementLocations[value.path] = elements.compactMap { element in
            element.node.scalar.map { ($0.string, element.location) }
        }
        return elements
    }

    /// A duration such as `7d`, `36h`, `1.5d`, `90m`, `30s`, in seconds; > 0.
    func duration(_ value: Value) -> Double? {
        guard let text = text(value, expected: "a duration") else { return nil }
        guard let seconds = TimeText.duration(text) else {
            report("expected a duration such as 7d, 36h, 90m or 30s, found '\(text)'", about: value)
            return nil
        }
        guard seconds > 0 else {
            report("must be greater than 0, found '\(text)'", about: value)
            return nil
        }
        return seconds
    }

    /// An ISO-8601 instant with a time zone, in seconds since the Unix epoch.
    func instant(_ value: Value) -> Double? {
        guard let text = text(value, expected: "an ISO-8601 instant") else { return nil }
        guard let seconds = TimeText.instant(text) else {
            report("expected an ISO-8601 instant such as 2026-01-01T00:00:00Z, found '\(text)'", about: value)
            return nil
        }
        return seconds
    }

    /// A path resolved against the pipeline folder and lexically normalised.
    func path(_ value: Value) -> Located<String>? {
        guard let text = text(value, expected: "a path") else { return nil }
        guard !text.isEmpty else {
            report("expected a path, found an empty string", about: value)
            return nil
        }
        return Located(PathText.resolve(text, against: folder), at: value.location)
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self)
    }
}
