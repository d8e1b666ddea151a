import FuzzSupport
import Parquet

/// The input's bytes as a Parquet file: the footer alone, then the reader, every column read
/// whole and every value touched.
private let scratch = ScratchFile(suffix: ".parquet")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    scratch.write(UnsafeRawBufferPointer(start: start, count: count))
    _ = try? ParquetReader.metadata(path: scratch.path)
    guard let reader = try? ParquetReader(path: scratch.path) else { return 0 }
    _ = reader.metadata.rowGroups.count
    for column in reader.columns {
        guard let batch = try? reader.read(column: column.name) else { continue }
        touch(batch, rows: reader.rowCount)
    }
    return 0
}

/// Reads every value (and validity bit) of `batch`, checking the counts agree.
private func touch(_ batch: ColumnBatch, rows: Int) {
    precondition(batch.count == rows, "a column of \(batch.count) values in a \(rows)-row file")
    if let validity = batch.validity { precondition(validity.count == batch.count) }
    var sum: UInt64 = 0
    switch batch.values {
    case .int32(let values): for value in values { sum &+= UInt64(truncatingIfNeeded: value) }
    case .int64(let values): for value in values { sum &+= UInt64(truncatingIfNeeded: value) }
    case .double(let values): for value in values { sum &+= value.bitPattern }
    case .byteArray(let values):
        for index in 0..<values.count { for byte in values[index] { sum &+= UInt64(byte) } }
    case .indexed(let values):
        for index in values.indices { for byte in values.values[Int(index)] { sum &+= UInt64(byte) } }
    }
    blackHole(sum)
}

@inline(never)
private func blackHole(_ value: UInt64) { withExtendedLifetime(value) {} }
