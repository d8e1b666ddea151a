internal import CZstd

/// Turns a zstd result code into a `ParquetError` naming it.
private func check(_ code: Int, _ what: String) throws -> Int {
    if ZSTD_isError(code) != 0 {
        throw ParquetError("\(what): zstd error: \(String(cString: ZSTD_getErrorName(code)))")
    }
    return code
}

/// A zstd compression context; one owner at a time.
///
/// The corresponding C functions are `ZSTD_createCCtx`, `ZSTD_compressCCtx` and `ZSTD_freeCCtx`.
final class ZstdCompressor {
    private let context: OpaquePointer

    init() throws {
        guard let context = ZSTD_createCCtx() else { throw ParquetError("zstd: cannot create a compression context") }
        self.context = context
    }

    deinit { ZSTD_freeCCtx(context) }

    /// Writes one zstd frame holding `input` to the front of `scratch`, which grows to zstd's
    /// bound for `input` when smaller and is otherwise reused as it is (no allocation, no copy);
    /// returns the frame's size.
    func compress(_ input: [UInt8], level: Int, into scratch: inout [UInt8]) throws -> Int {
        let bound = ZSTD_compressBound(input.count)
        if scratch.count < bound { scratch = [UInt8](repeating: 0, count: bound) }
        return try input.withUnsafeBytes { source in
            try scratch.withUnsafeMutableBytes { target in
                try check(ZSTD_compressCCtx(context, target.baseAddress, target.count,
                                            source.baseAddress, source.count, Int32(level)), "compressing a page")
            }
        }
    }
}

/// A zstd decompression context; one owner at a time.
///
/// The corresponding C functions are `ZSTD_createDCtx`, `ZSTD_decompressDCtx` and `ZSTD_freeDCtx`.
final class ZstdDecompressor {
    private let context: OpaquePointer

    init() throws {
        guard let context = ZSTD_createDCtx() else { throw ParquetError("zstd: cannot create a decompression context") }
        self.context = context
    }

    deinit { ZSTD_freeDCtx(context) }

    /// Decompresses `input[range]`, which must hold frames totalling exactly `expectedSize` bytes.
    func decompress(_ input: [UInt8], range: Range<Int>, expectedSize: Int, what: String) throws -> [UInt8] {
        guard expectedSize > 0 else {
            if range.isEmpty { return [] }
            // An empty frame still has a header; accept anything that decodes to nothing.
            _ = try decompressChecked(input, range: range, capacity: 0, what: what)
            return []
        }
        guard !range.isEmpty else { throw ParquetError("\(what): zstd data is empty, page header says \(expectedSize) bytes") }
        let declared = input.withUnsafeBytes { raw in
            ZSTD_getFrameContentSize(raw.baseAddress! + range.lowerBound, range.count)
        }
        if declared == UInt64.max - 1 { throw ParquetError("\(what): not a zstd frame") }
        if declared != UInt64.max && declared > UInt64(expectedSize) {
            throw ParquetError("\(what): zstd frame holds \(declared) bytes, page header says \(expectedSize)")
        }
        let output = try decompressChecked(input, range: range, capacity: expectedSize, what: what)
        guard output.count == expectedSize else {
            throw ParquetError("\(what): zstd data decompressed to \(output.count) bytes, page header says \(expectedSize)")
        }
        return output
    }

    private func decompressChecked(_ input: [UInt8], range: Range<Int>, capacity: Int, what: String) throws -> [UInt8] {
        try input.withUnsafeBytes { raw in
            let source = raw.baseAddress.map { $0 + range.lowerBound }
            return try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                initialized = try check(ZSTD_decompressDCtx(context, buffer.baseAddress, capacity, source, range.count),
                                        what)
            }
        }
    }
}
