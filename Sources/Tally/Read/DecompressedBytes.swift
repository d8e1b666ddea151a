/// A file's decompressed bytes, in chunks: zstd files go through `ZstdDecoder`, plain files
/// pass through.
///
/// Memory is bounded by `readSize + chunkSize`. Not thread-safe.
final class DecompressedBytes {
    private let file: FileBytes
    private let decoder: ZstdDecoder?
    private let input: UnsafeMutableRawBufferPointer
    private let output: UnsafeMutableRawBufferPointer
    private var inputCount = 0
    private var inputPosition = 0
    private var ended = false

    /// Compressed (on-disk) bytes read so far.
    private(set) var bytesRead: Int64 = 0

    /// Opens `file`; reads it `readSize` bytes at a time and hands out decompressed chunks of at
    /// most `chunkSize` bytes (both ≥ 1). Throws `.io` when it cannot be opened.
    init(_ file: InputFile, readSize: Int = 1 << 20, chunkSize: Int = 1 << 20) throws {
        precondition(readSize >= 1 && chunkSize >= 1)
        self.file = try FileBytes(path: file.path, displayPath: file.displayPath)
        decoder = file.isZstd ? ZstdDecoder() : nil
        input = .allocate(byteCount: readSize, alignment: 16)
        output = file.isZstd ? .allocate(byteCount: chunkSize, alignment: 16) : input
    }

    deinit {
        input.deallocate()
        if decoder != nil { output.deallocate() }
    }

    /// The next chunk, or nil at the end of the file; valid until the next call.
    ///
    /// Throws `.io` on a read error and `.badInput` (naming the compressed byte offset) for a
    /// truncated or corrupt zstd stream or trailing bytes after its last frame.
    func next() throws -> UnsafeRawBufferPointer? {
        guard !ended else { return nil }
        guard let decoder else {
            let count = try file.read(into: input)
            bytesRead += Int64(count)
            if count == 0 { ended = true; return nil }
            return UnsafeRawBufferPointer(rebasing: input[..<count])
        }
        do {
            while true {
                let produced = try decoder.decompress(UnsafeRawBufferPointer(rebasing: input[..<inputCount]),
                                                      position: &inputPosition, into: output)
                if produced > 0 { return UnsafeRawBufferPointer(rebasing: output[..<produced]) }
                inputCount = try file.read(into: input)
                inputPosition = 0
                bytesRead += Int64(inputCount)
                if inputCount == 0 {
                    ended = true
                    try decoder.finish()
                    return nil
                }
            }
        } catch let error as ZstdError {
            ended = true
            throw error.tallyError(displayPath: file.displayPath)
        }
    }
}
