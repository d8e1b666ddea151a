#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for writing that tracks its size; closed in `deinit` if not closed before.
final class FileOutput {
    private var descriptor: Int32
    let path: String
    /// Bytes written so far.
    private(set) var offset: Int = 0

    /// Creates or truncates `path`.
    init(path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ParquetError("cannot create \(path): \(String(cString: strerror(errno)))") }
        descriptor = fd
        self.path = path
    }

    deinit {
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    /// Writes all of `bytes`, retrying short writes and EINTR.
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ParquetError("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                done += n
            }
        }
        offset += bytes.count
    }

    /// Flushes to disk (`fsync`) and closes.
    func syncAndClose() throws {
        defer {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
        guard fsync(descriptor) == 0 else { throw ParquetError("cannot fsync \(path): \(String(cString: strerror(errno)))") }
    }
}
