#if canImport(Glibc)
import Glibc
#endif

/// A file opened for reading at explicit offsets; closed in `deinit`.
final class FileInput {
    private let descriptor: Int32
    let path: String
    /// File size in bytes, taken when opened.
    let size: Int

    init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError("cannot open \(path): \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let message = String(cString: strerror(errno))
            _ = close(fd)
            throw ParquetError("cannot stat \(path): \(message)")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            _ = close(fd)
            throw ParquetError("\(path) is not a regular file")
        }
        descriptor = fd
        self.path = path
        size = Int(info.st_size)
    }

    deinit { _ = close(descriptor) }

    /// Reads exactly `count` bytes at `offset`; the range must lie inside the file.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, count <= size - offset else {
            throw ParquetError("\(path): byte range \(offset)..<\(offset &+ count) lies outside the \(size)-byte file")
        }
        return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var done = 0
            while done < count {
                let n = pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ParquetError("cannot read \(path): \(String(cString: strerror(errno)))")
                }
                if n == 0 { throw ParquetError("\(path): file ended early at byte \(offset + done)") }
                done += n
            }
            initialized = count
        }
    }
}
