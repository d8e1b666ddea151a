import Foundation

/// Temporary files and folders: written under a name that marks them (`.NAME.tally-tmp-HOST.PID`),
/// renamed into place when complete, and removed by the next run on the same host when the
/// process that made them is gone (killed runs leave them behind). The host is in the name
/// because shard tasks on several machines may share a partials folder: a process id means
/// nothing on another host, and two hosts may run the same one.
enum Leftovers {
    static let marker = ".tally-tmp-"
    private static let owner = "\(host).\(getpid())"
    private static let host: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count - 1) == 0 else { return "localhost" }
        // Keep the name to characters that are safe in a file name.
        let text = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String(text.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
    }()

    /// The temporary files and folders this process has made and not yet renamed or removed.
    private final class Registry: @unchecked Sendable {
        // Confinement: `paths` only under `lock`.
        let lock = NSLock()
        var paths = Set<String>()
    }
    private static let live = Registry()

    /// The temporary name beside `path` for this process; it is tracked until `settled(_:)`.
    static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().path + "/.\(url.lastPathComponent)\(marker)\(owner)"
        live.lock.withLock { _ = live.paths.insert(temporary) }
        return temporary
    }

    /// `temporary` was renamed into place or removed.
    static func settled(_ temporary: String) {
        live.lock.withLock { _ = live.paths.remove(temporary) }
    }

    /// Removes every temporary file and folder of this process (on SIGINT or SIGTERM).
    static func removeAll() {
        for path in live.lock.withLock({ live.paths }) { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Writes `bytes` to a temporary name beside `path`, flushes them to disk and renames.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = temporaryPath(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot create: \(String(cString: strerror(errno)))")
        }
        var written = 0
        let ok = bytes.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(descriptor) == 0
        }
        let error = errno
        close(descriptor)
        defer { settled(temporary) }
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot write: \(String(cString: strerror(ok ? errno : error)))")
        }
    }

    /// Removes the temporary files and folders in `folder` made on this host by a process that
    /// is gone.
    static func remove(in folder: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names {
            guard let range = name.range(of: marker) else { continue }
            let made = name[range.upperBound...]
            guard let dot = made.lastIndex(of: "."), made[..<dot] == host,
                  let pid = Int32(made[made.index(after: dot)...]) else { continue }
            if pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM) { continue }   // still running
            try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
        }
    }
}
