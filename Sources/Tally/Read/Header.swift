/// The first record of a file read with `header: true`: the column names.
public struct Header: Sendable, Equatable {
    /// The column names in file order, decoded as UTF-8 (invalid bytes replaced by U+FFFD).
    public var names: [String]
    /// 1-based physical line of the header record (1 unless blank lines precede it).
    public var line: Int

    public init(names: [String], line: Int = 1) {
        self.names = names
        self.line = line
    }

    /// The 0-based field position of `column`: the first header field with that name, or the
    /// number itself when it is below the number of columns; nil when there is no such column.
    public func position(of column: Pipeline.ColumnRef) -> Int? {
        switch column {
        case .name(let name): names.firstIndex(of: name)
        case .index(let index): index >= 0 && index < names.count ? index : nil
        }
    }
}

/// Maps the pipeline's column references to field positions in one file's records.
public enum ColumnPositions {
    /// The 0-based field position of each of `columns`, in the same order.
    ///
    /// - Parameters:
    ///   - header: the file's header, or nil when the input has no header (`header: false`);
    ///     then `.index(n)` is field `n` and `.name` is a configuration error.
    ///   - path: the file as messages name it.
    /// - Throws: `.badInput` at the header's line naming the missing column and the header's
    ///   names, or a name the header has twice (which column is meant cannot be known);
    ///   `.config` for a name without header.
    public static func resolve(_ columns: [Pipeline.ColumnRef], header: Header?, path: String) throws -> [Int] {
        try columns.map { column in
            guard let header else {
                switch column {
                case .index(let index) where index >= 0: return index
                default:
                    throw TallyError(.config, stage: .read, at: InputLocation(path: path),
                                     "column '\(column)' needs a header, but the input has none (header: false)")
                }
            }
            guard let position = header.position(of: column) else {
                let names = header.names.joined(separator: ", ")
                throw TallyError(.badInput, stage: .read, at: InputLocation(path: path, line: header.line),
                                 "missing column '\(column)' (header has: \(names))")
            }
            if case .name(let name) = column, let again = header.names[(position + 1)...].firstIndex(of: name) {
                throw TallyError(.badInput, stage: .read, at: InputLocation(path: path, line: header.line, column: again + 1),
                                 "column '\(name)' appears twice in the header (columns \(position + 1) and \(again + 1))")
            }
            return position
        }
    }
}
