/// Snappy's raw format, as Parquet's SNAPPY codec stores a page (no framing), decompressed with
/// every length and offset checked against the input and the output so far.
///
/// The data is the uncompressed length as a little-endian base-128 varint, then elements, each a
/// tag byte whose low two bits give its kind:
/// - 0, a literal: (tag >> 2) + 1 bytes follow; for tag >> 2 of 60…63, the length − 1 is in the
///   next 1…4 bytes, little-endian;
/// - 1, a copy of 4 + ((tag >> 2) & 7) bytes from offset ((tag >> 5) << 8) | the next byte;
/// - 2, a copy of (tag >> 2) + 1 bytes from the offset in the next 2 bytes, little-endian;
/// - 3, the same with a 4-byte offset.
/// A copy takes the bytes `offset` back from the end of the output, one at a time: it may
/// overlap what it writes (a run).
enum Snappy {
    /// The `expectedSize` bytes that `input[range]` holds.
    static func decompress(_ input: [UInt8], range: Range<Int>, expectedSize: Int, what: String) throws -> [UInt8] {
        func fail(_ problem: String) -> ParquetError { ParquetError("\(what): damaged snappy data: \(problem)") }
        var position = range.lowerBound
        func byte() throws -> Int {
            guard position < range.upperBound else { throw fail("it ends inside an element") }
            defer { position += 1 }
            return Int(input[position])
        }
        func littleEndian(_ count: Int) throws -> Int {
            var value = 0
            for shift in 0..<count { value |= try byte() << (8 * shift) }
            return value
        }

        var length = 0
        for shift in stride(from: 0, through: 28, by: 7) {
            let next = try byte()
            length |= (next & 0x7F) << shift
            if next < 0x80 { break }
            if shift == 28 { throw fail("its length takes more than 5 bytes") }
        }
        guard length == expectedSize else { throw fail("it holds \(length) bytes, the page header says \(expectedSize)") }

        return try [UInt8](unsafeUninitializedCapacity: length) { output, written in
            while position < range.upperBound {
                let tag = try byte()
                switch tag & 3 {
                case 0:
                    var count = tag >> 2
                    count = count < 60 ? count + 1 : try littleEndian(count - 59) + 1
                    guard count <= range.upperBound - position else { throw fail("a literal runs past the end") }
                    guard count <= length - written else { throw fail("a literal runs past the stated length") }
                    for i in 0..<count { output[written + i] = input[position + i] }
                    position += count
                    written += count
                default:
                    let count: Int, offset: Int
                    switch tag & 3 {
                    case 1: (count, offset) = (4 + (tag >> 2) & 7, (tag >> 5) << 8 | (try byte()))
                    case 2: (count, offset) = ((tag >> 2) + 1, try littleEndian(2))
                    default: (count, offset) = ((tag >> 2) + 1, try littleEndian(4))
                    }
                    guard offset > 0 && offset <= written else { throw fail("a copy reaches back \(offset) bytes, before the start") }
                    guard count <= length - written else { throw fail("a copy runs past the stated length") }
                    for i in 0..<count { output[written + i] = output[written - offset + i] }
                    written += count
                }
            }
            guard written == length else { throw fail("it ends after \(written) of its \(length) bytes") }
        }
    }
}
