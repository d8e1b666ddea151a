import Foundation

/// Temporary files and folders: written under a name that marks them
/// (`.NAME.tally-tmp-HOST.PID.NONCE`), renamed into place when complete, and removed by a later
/// run (killed runs leave them behind): on the same host once the process that made them is
/// gone; from another host once nothing in them has changed for `abandonedAfter` seconds.
/// The host and a random nonce are in the name because shard tasks on several machines (or
/// containers with their own process ids) may share a partials folder: a process id means
/// nothing on another host, and two hosts may run the same one.
enum Leftovers {
    static let marker = ".tally-tmp-"
    /// How long another host's temporary may stay unchanged before it counts as abandoned: far
    /// longer than any write takes between two chunks.
    static let abandonedAfter: TimeInterval = 6 * 3600
    private static let owner = "\(host).\(getpid()).\(String(UInt32.random(in: .min ... .max), radix: 16))"
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
                             "cannot create: \(errnoText())")
        }
        let ok = writeAll(descriptor, bytes) && fsync(descriptor) == 0
        let error = errno
        close(descriptor)
        defer { settled(temporary) }
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot write: \(errnoText(ok ? errno : error))")
        }
    }

    /// Writes all of `bytes` to `descriptor`, retrying short writes; false on an error (in `errno`).
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let n = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return true
        }
    }

    /// Removes the temporary files and folders in `folder` that nobody is writing any more: made
    /// on this host by a process that is gone (or by an earlier process with this one's id), or
    /// on another host and unchanged for `abandonedAfter` seconds. This process's own stay.
    static func remove(in folder: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names {
            guard let range = name.range(of: marker), name[range.upperBound...] != owner else { continue }
            let path = "\(folder)/\(name)"
            // HOST.PID.NONCE; names without a host (older versions) are this host's.
            let parts = name[range.upperBound...].split(separator: ".", omittingEmptySubsequences: false)
            let mine = parts.count == 1 || (parts.count == 3 && parts[0] == host)
            if mine {
                guard let pid = Int32(parts.count == 1 ? parts[0] : parts[1]) else { continue }
                if pid != getpid() && (kill(pid, 0) == 0 || errno == EPERM) { continue }   // still running
            } else if Date().timeIntervalSince(lastChange(path)) < abandonedAfter {
                continue
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// When `path`, or anything directly in it, last changed.
    private static func lastChange(_ path: String) -> Date {
        let manager = FileManager.default
        let own = (try? manager.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
        let inside = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).compactMap {
            try? manager.attributesOfItem(atPath: "\(path)/\($0)")[.modificationDate] as? Date
        }
        return ([own] + inside).max()!
    }
}
