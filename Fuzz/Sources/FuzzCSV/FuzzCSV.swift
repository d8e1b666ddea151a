import FuzzSupport
import Tally

/// The input's bytes as a CSV file: `InputFile` decides plain or zstd by the first four bytes,
/// as for real inputs; then the file is read with a comma and a header, and with a tab and no
/// header, each at the default and at tiny read, chunk and batch sizes.
private let scratch = ScratchFile(suffix: ".csv")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    let isZstd: Bool
    do {
        isZstd = try InputFile(path: scratch.path, base: "/").isZstd
    } catch {
        fatalError("cannot inspect the scratch file: \(error)")
    }
    readTwice(scratch, count: count, isZstd: isZstd, delimiter: 0x2C, header: true)
    readTwice(scratch, count: count, isZstd: isZstd, delimiter: 0x09, header: false)
    return 0
}
