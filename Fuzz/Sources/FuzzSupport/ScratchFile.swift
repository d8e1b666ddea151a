import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One file per process that a harness rewrites with each input, for readers that take a path.
///
/// Lives in `/dev/shm` when it exists (no disk writes per input), else in `$TMPDIR` or `/tmp`;
/// removed at exit. One writer at a time: libFuzzer calls a harness from one thread.
public struct ScratchFile: Sendable {
    /// The absolute path of the file.
    public let path: String

    /// - Parameter suffix: the file name's ending, for messages (`.csv`, `.parquet`).
    public init(suffix: String) {
        let folder: String
        var info = stat()
        if stat("/dev/shm", &info) == 0 && access("/dev/shm", W_OK) == 0 {
            folder = "/dev/shm"
        } else if let tmp = getenv("TMPDIR") {
            folder = String(cString: tmp)
        } else {
            folder = "/tmp"
        }
        path = "\(folder)/tally-fuzz-\(getpid())\(suffix)"
        _ = cleanupRegistered
        pathsToRemove.withLock { $0.append(path) }
    }

    /// Replaces the file's contents with `bytes`; traps if the file cannot be written, since
    /// the harness would otherwise test nothing.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { fatalError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        var done = 0
        while done < bytes.count {
            let written = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { fatalError("cannot write \(path): \(String(cString: strerror(errno)))") }
            done += written
        }
    }
}

/// Scratch files to unlink when the process exits.
private let pathsToRemove = Mutex<[String]>([])
private let cleanupRegistered: Void = {
    atexit {
        pathsToRemove.withLock { paths in
            for path in paths { unlink(path) }
        }
    }
}()
