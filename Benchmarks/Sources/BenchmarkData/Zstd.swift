import CZstdBench

/// One-shot zstd compression, to make the reader's `.csv.zst` input in setup.
public enum Zstd {
    /// `bytes` as one zstd frame at `level`. The corresponding C function is `ZSTD_compress`.
    public static func compress(_ bytes: [UInt8], level: Int32 = 3) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { out, count in
            let written = bytes.withUnsafeBytes { ZSTD_compress(out.baseAddress, bound, $0.baseAddress, $0.count, level) }
            precondition(ZSTD_isError(written) == 0, String(cString: ZSTD_getErrorName(written)))
            count = written
        }
    }
}
