import Foundation
import Tally

/// A file the benchmarks write and read, on tmpfs (`/dev/shm`) when there is one so that disk
/// speed does not enter the numbers; removed by `remove()`.
public struct ScratchFile: Sendable {
    public let path: String

    /// A fresh path ending in `name`, unique to this process.
    public init(_ name: String) {
        var isFolder: ObjCBool = false
        let folder = FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isFolder) && isFolder.boolValue
            ? "/dev/shm" : NSTemporaryDirectory()
        path = "\(folder)/tally-bench-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
    }

    /// Writes `bytes`, replacing the file.
    public func write(_ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The file as a reader input.
    public var inputFile: InputFile {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        return InputFile(path: path, displayPath: (path as NSString).lastPathComponent,
                         relativePath: (path as NSString).lastPathComponent,
                         size: Int64(size), isZstd: path.hasSuffix(".zst"))
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
