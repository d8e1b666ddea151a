#if canImport(Glibc)
import Glibc
#endif

/// An open file read from start to end with read(2).
///
/// Owns its descriptor and closes it in `deinit`. Not thread-safe.
final class FileBytes {
    private let descriptor: Int32
    /// The path as messages show it.
    let displayPath: String

    /// Opens `path` for reading. Throws `.io` naming `displayPath` when it cannot be opened.
    init(path: String, displayPath: String) throws {
        self.displayPath = displayPath
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TallyError(.io, stage: .read, at: InputLocation(path: displayPath),
                             "cannot open: \(errnoText())")
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Moves to byte `offset` of the file. Throws `.io` when it cannot.
    func seek(to offset: Int64) throws {
        guard lseek(descriptor, off_t(offset), SEEK_SET) >= 0 else {
            throw TallyError(.io, stage: .read, at: InputLocation(path: displayPath), "cannot seek: \(errnoText())")
        }
    }

    /// Reads up to `buffer.count` bytes into `buffer`; returns the count, 0 at the end of the file.
    /// Throws `.io` on a read error.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw TallyError(.io, stage: .read, at: InputLocation(path: displayPath),
                             "cannot read: \(errnoText())")
        }
    }
}
