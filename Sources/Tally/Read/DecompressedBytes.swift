/// A file's decompressed bytes, written into buffers the caller provides: zstd files go through
/// `ZstdDecoder`, plain files are read straight into them.
///
/// Memory is bounded by `readSize` (the compressed input buffer). Not thread-safe.
final class DecompressedBytes {
    private let file: FileBytes
    private let path: String
    private let decoder: ZstdDecoder?
    private let input: UnsafeMutableRawBufferPointer
    private var inputCount = 0
    private var inputPosition = 0
    private var ended = false

    /// Compressed (on-disk) bytes read so far.
    private(set) var bytesRead: Int64 = 0

    /// Compressed (on-disk) bytes decoded so far: those read, but for the ones waiting in the
    /// input buffer.
    var bytesConsumed: Int64 { bytesRead - Int64(inputCount - inputPosition) }

    /// Opens `file`; reads compressed files `readSize` bytes at a time (≥ 1). Throws `.io` when
    /// it cannot be opened.
    init(_ file: InputFile, readSize: Int = 1 << 20) throws {
        precondition(readSize >= 1)
        self.file = try FileBytes(path: file.path, displayPath: file.displayPath)
        path = file.path
        decoder = file.isZstd ? ZstdDecoder() : nil
        input = .allocate(byteCount: file.isZstd ? readSize : 0, alignment: 16)
    }

    deinit {
        input.deallocate()
    }

    /// Writes the next bytes of the stream to the start of `output` (not empty) and returns
    /// their count, 0 at the end of the file.
    ///
    /// Throws `.io` on a read error and `.badInput` (naming the compressed byte offset) for a
    /// truncated or corrupt zstd stream or trailing bytes after its last frame.
    func read(into output: UnsafeMutableRawBufferPointer) throws -> Int {
        precondition(!output.isEmpty)
        guard !ended else { return 0 }
        guard let decoder else {
            let count = try file.read(into: output)
            bytesRead += Int64(count)
            if count == 0 { ended = true }
            return count
        }
        do {
            while true {
                let produced = try decoder.decompress(UnsafeRawBufferPointer(rebasing: input[..<inputCount]),
                                                      position: &inputPosition, into: output)
                if produced > 0 { return produced }
                inputCount = try file.read(into: input)
                inputPosition = 0
                bytesRead += Int64(inputCount)
                if inputCount == 0 {
                    ended = true
                    try decoder.finish()
                    return 0
                }
            }
        } catch var error as ZstdError {
            ended = true
            if case .corrupt = error.kind { error.failingBytes = ZstdDecoder.failingBytes(in: path, frameStart: error.offset) }
            throw error.tallyError(displayPath: file.displayPath)
        }
    }
}
