#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One input file, found by expanding the pipeline's glob patterns.
///
/// A value: safe to share between threads.
public struct InputFile: Sendable, Hashable {
    /// Absolute, lexically normalised path; what is opened.
    public var path: String
    /// The path as messages show it: relative to the current directory when the file is below
    /// it, else absolute.
    public var displayPath: String
    /// The path relative to the base folder given to `InputFiles.expand` (the pipeline folder),
    /// with `..` where needed; used in output files so that they do not depend on the current
    /// directory.
    public var relativePath: String
    /// Size of the file on disk (compressed size for zstd), in bytes.
    public var size: Int64
    /// Last modification time, in nanoseconds since the epoch (how `tally reduce` tells that a
    /// file changed since its map without reading it).
    public var modified: Int64
    /// Whether the file is read as zstd: when its name ends in `.zst` or `.zstd`, whatever its
    /// bytes (a damaged or empty one is then an error, never read as CSV), or when it starts with
    /// a zstd frame or a skippable frame (a compressed file under another name). Any other file,
    /// an empty one included, is plain CSV.
    public var isZstd: Bool

    public init(path: String, displayPath: String, relativePath: String, size: Int64, modified: Int64 = 0, isZstd: Bool) {
        self.path = path
        self.displayPath = displayPath
        self.relativePath = relativePath
        self.size = size
        self.modified = modified
        self.isZstd = isZstd
    }

    /// Builds the entry for the regular file at `path`, reading its first bytes.
    ///
    /// Relative paths are taken relative to `base`. Throws `.io` when the file cannot be read.
    public init(path: String, base: String, currentDirectory: String = InputFiles.currentDirectory()) throws {
        let absolute = PathText.resolve(path, against: base)
        let display = PathText.display(absolute, currentDirectory: currentDirectory)
        var info = stat()
        guard stat(absolute, &info) == 0 else {
            throw TallyError(.io, stage: .read, at: InputLocation(path: display),
                             "cannot read: \(errnoText())")
        }
        self.init(path: absolute, displayPath: display,
                  relativePath: PathText.relative(absolute, to: PathText.normalize(base)),
                  size: Int64(info.st_size),
                  modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                  isZstd: try ZstdMagic.isZstdName(absolute) || ZstdMagic.fileStartsWithFrame(absolute, displayPath: display))
    }
}

/// Expands the input glob patterns into the sorted list of input files.
public enum InputFiles {
    /// Expands `patterns` with glob(3) and returns their union, deduplicated and sorted by path
    /// bytes.
    ///
    /// - Parameters:
    ///   - patterns: glob patterns; relative ones are taken relative to `base`.
    ///   - base: absolute folder that `relativePath` is relative to (the pipeline folder).
    ///   - currentDirectory: absolute folder that `displayPath` is relative to.
    /// - Only regular files (after following symbolic links) are kept; a pattern that matches
    ///   nothing is fine as long as some pattern matches a file.
    /// - Throws: `.noInput` naming the patterns when no file matches; `.io` when a matched file
    ///   cannot be read.
    public static func expand(_ patterns: [String], base: String,
                              currentDirectory: String = currentDirectory()) throws -> [InputFile] {
        var seen = Set<String>()
        var paths: [String] = []
        for pattern in patterns {
            let absolute = pattern.hasPrefix("/") ? pattern : base + "/" + pattern
            for match in try glob(absolute) {
                let path = PathText.normalize(match)
                if isRegularFile(path), seen.insert(path).inserted { paths.append(path) }
            }
        }
        guard !paths.isEmpty else {
            let list = patterns.map { "'\($0)'" }.joined(separator: ", ")
            throw TallyError(.noInput, stage: .read, "no input file matched \(list)")
        }
        paths.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return try paths.map { try InputFile(path: $0, base: base, currentDirectory: currentDirectory) }
    }

    /// The paths that `pattern` names without a wildcard (`*`, `?`, `[`), once its brace lists
    /// are expanded as glob(3) expands them (`logs/{a,b}.csv` names `logs/a.csv` and
    /// `logs/b.csv`) and that are no regular file: a run must not go on without a file the
    /// pipeline names exactly (a day missing from a window), even when other patterns match.
    /// Relative paths are taken relative to `base`.
    public static func missingFiles(_ pattern: String, base: String) -> [String] {
        braceAlternatives(pattern).filter { path in
            !hasWildcard(path) && !isRegularFile(PathText.resolve(unescaped(path), against: base))
        }
    }

    /// Whether `pattern` (relative to `base`) names the absolute `path`, as glob(3) would match
    /// it: brace lists expanded, `*` and `?` within one path component, no leading `.` matched
    /// by a wildcard. The file need not exist.
    public static func pattern(_ pattern: String, base: String, matches path: String) -> Bool {
        braceAlternatives(pattern).contains { alternative in
            fnmatch(PathText.resolve(alternative, against: base), PathText.normalize(path), FNM_PATHNAME | FNM_PERIOD) == 0
        }
    }

    /// `pattern` with its brace lists expanded as glob(3) with `GLOB_BRACE` does, in order: each
    /// `{…}` (which may nest) gives one pattern per comma-separated alternative, one alternative
    /// included (`{a}` is `a`); `{}`, an unclosed brace and a `\`-escaped one stay as they are.
    static func braceAlternatives(_ pattern: String) -> [String] {
        let characters = Array(pattern)
        var open = 0, depth = 0, commas: [Int] = []
        var index = 0
        while index < characters.count {
            switch characters[index] {
            case "\\":
                index += 1   // the next character is taken as it is
            case "{":
                if depth == 0 { open = index; commas = [] }
                depth += 1
            case "," where depth == 1:
                commas.append(index)
            case "}" where depth > 0:
                depth -= 1
                guard depth == 0, index > open + 1 else { break }
                let prefix = String(characters[..<open]), suffix = String(characters[(index + 1)...])
                let bounds = [open] + commas + [index]
                return (0..<bounds.count - 1).flatMap { k in
                    braceAlternatives(prefix + String(characters[(bounds[k] + 1)..<bounds[k + 1]]) + suffix)
                }
            default:
                break
            }
            index += 1
        }
        return [pattern]
    }

    /// Whether `pattern` has a `*`, `?` or `[` that no `\` escapes.
    private static func hasWildcard(_ pattern: String) -> Bool {
        var escaped = false
        for character in pattern {
            if escaped { escaped = false; continue }
            if character == "\\" { escaped = true } else if "*?[".contains(character) { return true }
        }
        return false
    }

    /// `pattern` as the path it names when it has no wildcard: each `\x` is `x`.
    private static func unescaped(_ pattern: String) -> String {
        var text = "", escaped = false
        for character in pattern {
            if !escaped && character == "\\" { escaped = true; continue }
            escaped = false
            text.append(character)
        }
        return text
    }

    /// `path` as messages show it: relative to the current directory when below it.
    public static func display(_ path: String) -> String {
        let directory = currentDirectory()
        return PathText.display(PathText.resolve(path, against: directory), currentDirectory: directory)
    }

    /// The process's current directory (absolute), or `/` when it cannot be determined.
    public static func currentDirectory() -> String {
        guard let text = getcwd(nil, 0) else { return "/" }
        defer { free(text) }
        return String(cString: text)
    }

    private static func glob(_ pattern: String) throws -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        // GLOB_BRACE: `logs/{2026-11-26,2026-11-27}.csv.zst` names a window of days.
        let status = Glibc.glob(pattern, GLOB_BRACE, nil, &result)
        switch status {
        case 0: break
        case GLOB_NOMATCH: return []
        case GLOB_NOSPACE: throw TallyError(.io, stage: .read, "out of memory expanding '\(pattern)'")
        default: throw TallyError(.io, stage: .read, "cannot expand '\(pattern)'")
        }
        return (0..<Int(result.gl_pathc)).compactMap { index in
            result.gl_pathv[index].map { String(cString: $0) }
        }
    }

    private static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }
}
