/// Where something is in the input: a file, and optionally a line, a column and a byte offset.
///
/// Locations are kept in fields, not only inside messages, so that tests and the quarantine
/// table can use them.
public struct InputLocation: Hashable, Sendable, CustomStringConvertible {
    /// The file as the user should see it (relative to the working directory where possible).
    public var path: String
    /// 1-based physical line.
    public var line: Int?
    /// 1-based column: the field number in a CSV record, the character in a YAML line.
    public var column: Int?
    /// 0-based offset of the first byte concerned, in the file's decompressed stream.
    public var byteOffset: Int64?

    public init(path: String, line: Int? = nil, column: Int? = nil, byteOffset: Int64? = nil) {
        self.path = path
        self.line = line
        self.column = column
        self.byteOffset = byteOffset
    }

    /// `path`, `path:line` or `path:line:column`.
    public var description: String {
        var text = path
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        return text
    }
}
