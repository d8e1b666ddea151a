import FuzzSupport

/// The input's bytes as a `.csv.zst` file, whatever its first bytes: decompressed and read with
/// a comma and a header at the default and at tiny read, chunk and batch sizes.
private let scratch = ScratchFile(suffix: ".csv.zst")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    readTwice(scratch, count: count, isZstd: true, delimiter: 0x2C, header: true)
    return 0
}
