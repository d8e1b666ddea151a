import Foundation
@testable import Parquet

/// A fresh empty folder under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("parquet-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The bytes of a bundled fixture, e.g. `fixture("tiny.parquet")`.
func fixtureURL(_ name: String) throws -> URL {
    let base = (name as NSString).deletingPathExtension
    let ext = (name as NSString).pathExtension
    guard let url = Bundle.module.url(forResource: "Fixtures/\(base)", withExtension: ext) else {
        throw ParquetError("fixture \(name) is not bundled")
    }
    return url
}

/// Options for small test files: uncompressed unless told otherwise.
func testOptions(_ compression: ParquetWriterOptions.Compression = .none, rowGroupRows: Int = 1 << 20,
                 pageBytes: Int = 1 << 20, createdBy: String = "tally tests") -> ParquetWriterOptions {
    var options = ParquetWriterOptions()
    options.compression = compression
    options.rowGroupRows = rowGroupRows
    options.pageBytes = pageBytes
    options.createdBy = createdBy
    return options
}

/// `options` with dictionary and delta encoding turned off: PLAIN everywhere.
func plainOnly(_ options: ParquetWriterOptions) -> ParquetWriterOptions {
    var options = options
    options.dictionary = false
    options.deltaIntegers = false
    return options
}

/// Writes `batches` to `path` and returns what `close()` reported.
@discardableResult
func writeFile(_ path: String, _ columns: [ParquetColumn], _ batches: [[ColumnBatch]],
               options: ParquetWriterOptions = testOptions()) throws -> ParquetFileInfo {
    let writer = try ParquetWriter(path: path, columns: columns, options: options)
    for batch in batches { try writer.append(batch) }
    return try writer.close()
}

/// A deterministic generator (SplitMix64) for property-style tests.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Bytes from a hex string such as "DF 89 03".
func hex(_ text: String) -> [UInt8] {
    text.split(separator: " ").map { UInt8($0, radix: 16)! }
}
