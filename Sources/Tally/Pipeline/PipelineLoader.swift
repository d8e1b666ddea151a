import Foundation
import Yams

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a pipeline file. Where DESIGN §2 leaves room, the loader decides:
///
/// - Types are judged from a scalar's text after `${}` substitution, so a variable can stand for
///   a number; the one exception is column references under `header: true`, where an unquoted
///   integer is an error (quote it to name a column whose header is a number). Keys are never
///   substituted. A null (`~`, empty) value counts as absent; as a section, as `{}`; in a `where`
///   list, as the empty field value.
/// - Defaults: `count.key` [item]; `time_bins.origin` the Unix epoch, `kernel` hard, `bandwidth`
///   1; `smoothing.temperature` 1; `embedding.group` user, `seed` 0 (`dim` is required);
///   `decay.reference` end; `bad_rows.max` 0 for fail, unlimited for skip and quarantine.
///   Roles that the key or an embedding tokenize get default vocabulary settings when unlisted.
/// - A file whose version is not 1 is not checked further. Errors come sorted by line and column.
/// - `hash` covers the file's bytes and only the variables the file uses.
extension Pipeline {
    /// Reads, checks and substitutes the pipeline file at `path` (DESIGN §2).
    ///
    /// Throws the first problem in file order: `.config` (exit 78) for anything wrong inside the
    /// file, located as `path:line:column` with `path` as given here; `.noInput` (exit 66) when
    /// the file cannot be opened; `.io` (exit 74) when reading it fails midway. Use
    /// `validate(path:variables:)` to get every problem at once.
    public static func load(path: String, variables: [String: String] = [:]) throws -> Pipeline {
        let (pipeline, errors) = check(path: path, variables: variables)
        if let first = errors.first { throw first }
        return pipeline!
    }

    /// Parses pipeline text as if read from `path`, resolving relative paths against `folder`
    /// (made absolute against the working directory when relative). Throws like `load`.
    public static func parse(yaml: String, path: String, folder: String,
                             variables: [String: String] = [:]) throws -> Pipeline {
        let (pipeline, errors) = check(bytes: Array(yaml.utf8), path: path, folder: folder, variables: variables)
        if let first = errors.first { throw first }
        return pipeline!
    }

    /// Every problem in the pipeline file at `path`, sorted by line and column; empty when it
    /// loads. An unset variable is reported and the rest is still checked.
    public static func validate(path: String, variables: [String: String] = [:]) -> [TallyError] {
        check(path: path, variables: variables).errors
    }

    /// Every problem in pipeline text, as `parse(yaml:path:folder:variables:)` would see them.
    public static func validate(yaml: String, path: String, folder: String,
                                variables: [String: String] = [:]) -> [TallyError] {
        check(bytes: Array(yaml.utf8), path: path, folder: folder, variables: variables).errors
    }

    // MARK: Implementation

    static func check(path: String, variables: [String: String]) -> (pipeline: Pipeline?, errors: [TallyError]) {
        let bytes: [UInt8]
        do {
            bytes = try readFile(path)
        } catch {
            return (nil, [error])
        }
        return check(bytes: bytes, path: path, folder: PathText.folder(of: absolute(path)), variables: variables)
    }

    static func check(bytes: [UInt8], path: String, folder: String,
                      variables: [String: String]) -> (pipeline: Pipeline?, errors: [TallyError]) {
        let reader = ConfigReader(path: path, folder: absolute(folder), variables: variables)
        // A byte-order mark (editors on Windows write one) is no part of the YAML.
        let hasByteOrderMark = bytes.starts(with: [0xEF, 0xBB, 0xBF])
        guard let text = String(validating: bytes.dropFirst(hasByteOrderMark ? 3 : 0), as: UTF8.self) else {
            reader.report("the pipeline file is not valid UTF-8", at: InputLocation(path: path))
            return (nil, reader.errors)
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text, .default, .default, .utf8)
        } catch let error as YamlError {
            reader.report(syntaxError: error)
            return (nil, reader.errors)
        } catch {
            reader.report("invalid YAML: \(error)", at: InputLocation(path: path))
            return (nil, reader.errors)
        }
        guard let root else {
            reader.report("the pipeline file is empty", at: InputLocation(path: path, line: 1, column: 1))
            return (nil, reader.errors)
        }
        let pipeline = PipelineDecoder(reader: reader).decode(root)
        // Stable sort: problems in file order; ties keep the order they were found in.
        let errors = reader.errors.enumerated().sorted { a, b in
            let keyA = (a.element.location?.line ?? .max, a.element.location?.column ?? .max, a.offset)
            let keyB = (b.element.location?.line ?? .max, b.element.location?.column ?? .max, b.offset)
            return keyA < keyB
        }.map(\.element)
        guard errors.isEmpty, var pipeline else { return (nil, errors) }
        pipeline.hash = hash(bytes: bytes, variables: reader.usedVariables)
        return (pipeline, [])
    }

    /// SHA-256 of the file's bytes, then for each variable the file uses, sorted by name, a 0
    /// byte, the name, `=` and the value. Variables given but not used do not change it.
    static func hash(bytes: [UInt8], variables: [String: String]) -> String {
        var hasher = SHA256()
        hasher.update(bytes)
        for name in variables.keys.sorted() {
            hasher.update([0])
            hasher.update("\(name)=\(variables[name]!)")
        }
        return SHA256.hex(hasher.finalize())
    }

    private static func absolute(_ path: String) -> String {
        PathText.resolve(path, against: InputFiles.currentDirectory())
    }

    /// The whole file. `.noInput` when it cannot be opened (or is a folder), `.io` when a read fails.
    private static func readFile(_ path: String) throws(TallyError) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw TallyError(.noInput, stage: .pipeline, at: InputLocation(path: path),
                             "cannot open the pipeline file: \(errnoText())")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if errno == EINTR { continue }
                let code = errno
                throw TallyError(code == EISDIR ? .noInput : .io, stage: .pipeline, at: InputLocation(path: path),
                                 "cannot read the pipeline file: \(errnoText(code))")
            }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return bytes
    }
}

extension ConfigReader {
    /// The line and column (1-based) where block-style key `key`, first at `mark`, comes again
    /// in the same mapping: the next line that starts with `key:` at the same indentation,
    /// before a line indented less ends the mapping. Nil for flow style, where it is not found.
    static func repetition(of key: String, after mark: Mark, in yaml: String) -> (line: Int, column: Int)? {
        // YAML's line breaks: LF, CRLF (one Character in Swift) and CR.
        let lines = yaml.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
        let indent = mark.column - 1
        guard mark.line >= 1, mark.line <= lines.count else { return nil }
        for index in mark.line..<lines.count {
            let content = lines[index].drop(while: { $0 == " " })
            if content.isEmpty || content.first == "#" { continue }
            let leading = lines[index].count - content.count
            if leading < indent { return nil }
            if leading == indent, content.hasPrefix(key), content.dropFirst(key.count).drop(while: { $0 == " " }).first == ":" {
                return (index + 1, mark.column)
            }
        }
        return nil
    }

    /// Reports a YAML syntax error at Yams' line and column.
    func report(syntaxError error: YamlError) {
        // libyaml's order: the context (what it was reading, and where that began), then the problem.
        func context(_ context: YamlError.Context?) -> String {
            guard let context, !context.text.isEmpty else { return "" }
            return "\(context.text) at line \(context.mark.line), column \(context.mark.column): "
        }
        switch error {
        case let .scanner(ctx, problem, mark, _), let .parser(ctx, problem, mark, _), let .composer(ctx, problem, mark, _):
            report("invalid YAML: \(context(ctx))\(problem)", at: location(mark))
        case let .reader(problem, offset, _, yaml):
            var place = InputLocation(path: path)
            if let offset, offset <= yaml.count {
                let before = yaml.prefix(offset)
                let line = before.reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
                let lineStart = before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex
                place = InputLocation(path: path, line: line,
                                      column: before[lineStart...].unicodeScalars.count + 1)
            }
            report("invalid YAML: \(problem)", at: place)
        case let .duplicatedKeysInMapping(duplicates, ctx):
            // Yams lists them in its dictionary's order, which changes from run to run, and
            // marks the first key's first place: the error is at its repetition when it is found.
            let sorted = duplicates.sorted()
            let keys = sorted.map { "'\($0)'" }.joined(separator: ", ")
            let first = location(ctx.mark)
            let repeated = sorted.first.flatMap { Self.repetition(of: $0, after: ctx.mark, in: ctx.text) }
            report("duplicate key \(keys) in a mapping (each key may appear once)",
                   at: repeated.map { InputLocation(path: path, line: $0.line, column: $0.column) } ?? first)
        default:
            report("invalid YAML: \(error)", at: InputLocation(path: path))
        }
    }
}
