#if _endian(big)
#error("PLAIN encoding here assumes a little-endian host")
#endif

/// PLAIN encoding of values (Encodings.md): fixed-width values little-endian, byte arrays as a
/// 4-byte little-endian length then the bytes.
enum PlainEncoder {
    /// The PLAIN bytes of one fixed-width value (statistics, the footer's length).
    static func bytes<T: BitwiseCopyable>(of value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }

    /// Appends fixed-width values: a copy of their memory on a little-endian host.
    static func append<T: BitwiseCopyable>(_ values: ArraySlice<T>, into out: inout [UInt8]) {
        values.withUnsafeBytes { out.append(contentsOf: $0) }
    }

    /// Appends the fixed-width values at rows where `validity` is true.
    static func append<T: BitwiseCopyable>(_ values: ArraySlice<T>, validity: ArraySlice<Bool>, into out: inout [UInt8]) {
        for (value, valid) in zip(values, validity) where valid {
            withUnsafeBytes(of: value) { out.append(contentsOf: $0) }
        }
    }

    /// Appends byte-array values `rows`, skipping rows where `validity` is false.
    static func append(_ column: ByteArrayColumn, rows: Range<Int>, validity: ArraySlice<Bool>?, into out: inout [UInt8]) {
        if let validity, validity[rows].contains(false) {
            append(column, rows: rows.lazy.filter { validity[$0] }, into: &out)
        } else {
            append(column, rows: rows, into: &out)
        }
    }

    /// Appends the byte-array values at `rows`, each a 4-byte length then the bytes; one
    /// allocation and no per-value retain.
    static func append(_ column: ByteArrayColumn, rows: some Collection<Int>, into out: inout [UInt8]) {
        column.offsets.withUnsafeBufferPointer { offsets in
            var size = 0
            for row in rows { size += 4 + offsets[row + 1] - offsets[row] }
            let start = out.count
            out.append(contentsOf: repeatElement(0, count: size))
            column.bytes.withUnsafeBytes { bytes in
                out.withUnsafeMutableBytes { raw in
                    var position = start
                    for row in rows {
                        let from = offsets[row], length = offsets[row + 1] - from
                        raw.storeBytes(of: UInt32(truncatingIfNeeded: length).littleEndian, toByteOffset: position, as: UInt32.self)
                        position += 4
                        if length > 0 {
                            (raw.baseAddress! + position).copyMemory(from: bytes.baseAddress! + from, byteCount: length)
                            position += length
                        }
                    }
                }
            }
        }
    }
}

/// Reads PLAIN values from `bytes[range]`, bounds-checking every read.
struct PlainDecoder {
    private let bytes: [UInt8]
    private(set) var position: Int
    private let end: Int
    private let what: String

    init(_ bytes: [UInt8], range: Range<Int>, what: String) {
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.what = what
    }

    private func need(_ byteCount: Int, for count: Int) throws {
        guard byteCount <= end - position else {
            throw ParquetError("\(what): \(count) PLAIN values need \(byteCount) bytes, page has \(end - position)")
        }
    }

    /// Reads `count` fixed-width little-endian values.
    mutating func fixed<T: BitwiseCopyable>(_ type: T.Type, count: Int) throws -> [T] {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.size)
        guard !overflow else { throw ParquetError("\(what): value count \(count) too large") }
        try need(byteCount, for: count)
        let start = position
        position += byteCount
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[start..<start + byteCount]))
            }
            initialized = count
        }
    }

    /// Reads `count` bit-packed booleans as 0/1.
    mutating func booleans(count: Int) throws -> [Int32] {
        let byteCount = (count + 7) / 8
        try need(byteCount, for: count)
        var values: [Int32] = []
        values.reserveCapacity(count)
        BitPacking.unpack(bytes, start: position, bitWidth: 1, count: count) { values.append(Int32($0)) }
        position += byteCount
        return values
    }

    /// Reads `count` length-prefixed byte arrays.
    mutating func byteArrays(count: Int) throws -> ByteArrayColumn {
        var column = ByteArrayColumn()
        column.reserveCapacity(values: min(count, end - position), bytes: 0)
        for index in 0..<count {
            guard end - position >= 4 else {
                throw ParquetError("\(what): byte array \(index) of \(count) has no length (page ends)")
            }
            let length = Int(UInt32(littleEndianBytes: bytes[position..<position + 4]))
            position += 4
            guard length <= end - position else {
                throw ParquetError("\(what): byte array \(index) of length \(length) runs past the page end")
            }
            column.append(bytes[position..<position + length])
            position += length
        }
        return column
    }

    /// Reads `count` fixed-length byte arrays of `width` bytes.
    mutating func fixedLengthByteArrays(count: Int, width: Int) throws -> ByteArrayColumn {
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: width)
        guard !overflow, width >= 0 else { throw ParquetError("\(what): value count \(count) too large") }
        try need(byteCount, for: count)
        var column = ByteArrayColumn()
        column.reserveCapacity(values: count, bytes: byteCount)
        for _ in 0..<count {
            column.append(bytes[position..<position + width])
            position += width
        }
        return column
    }
}
