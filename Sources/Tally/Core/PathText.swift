#if canImport(Glibc)
import Glibc
#endif

/// Lexical path handling: no file system access, no symlink resolution.
enum PathText {
    /// `path` made absolute against `folder` (kept when already absolute), normalised.
    static func resolve(_ path: String, against folder: String) -> String {
        normalize(path.hasPrefix("/") ? path : folder + "/" + path)
    }

    /// The folder holding `path`: `/a/b` for `/a/b/c.yaml`.
    static func folder(of absolutePath: String) -> String {
        let parts = components(absolutePath)
        return "/" + parts.dropLast().joined(separator: "/")
    }

    /// Removes empty and `.` components and resolves `..` lexically (`/..` stays `/`).
    static func normalize(_ path: String) -> String {
        "/" + components(path).joined(separator: "/")
    }

    /// `path` relative to the folder `base` (both absolute), with `..` where needed; `.` when equal.
    static func relative(_ path: String, to base: String) -> String {
        let target = components(path), origin = components(base)
        var common = 0
        while common < target.count, common < origin.count, target[common] == origin[common] { common += 1 }
        let parts = Array(repeating: "..", count: origin.count - common) + target[common...].map(String.init)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// `path` relative to `currentDirectory` when it is below it, else `path` itself (normalised).
    static func display(_ path: String, currentDirectory: String) -> String {
        let target = components(path), origin = components(currentDirectory)
        guard target.count > origin.count, Array(target.prefix(origin.count)) == origin else {
            return normalize(path)
        }
        return target[origin.count...].joined(separator: "/")
    }

    static func components(_ path: String) -> [Substring] {
        var result: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) where part != "." {
            if part == ".." { _ = result.popLast() } else { result.append(part) }
        }
        return result
    }
}
