import Testing
@testable import Parquet

/// The SNAPPY page decoder on hand-made elements of every kind (pyarrow's files, read back value
/// by value in `ParquetInteropTests`, use the common ones), and on damaged data.
@Suite struct SnappyTests {
    static func decode(_ bytes: [UInt8], _ size: Int) throws -> [UInt8] {
        try Snappy.decompress(bytes, range: 0..<bytes.count, expectedSize: size, what: "t")
    }

    @Test func everyElementKindDecodes() throws {
        let abcd = Array("abcd".utf8)
        // A literal, then a 1-byte-offset copy of 8 that overlaps what it writes: a run.
        #expect(try Self.decode([12, 3 << 2] + abcd + [(8 - 4) << 2 | 1, 4], 12) == Array("abcdabcdabcd".utf8))
        // 2- and 4-byte offsets.
        #expect(try Self.decode([8, 3 << 2] + abcd + [(4 - 1) << 2 | 2, 4, 0], 8) == abcd + abcd)
        #expect(try Self.decode([6, 3 << 2] + abcd + [(2 - 1) << 2 | 3, 3, 0, 0, 0], 6) == abcd + Array("bc".utf8))
        // A literal whose length − 1 is in the next byte (tag 60), then in the next two (tag 61).
        let long = (0..<100).map { UInt8($0) }
        #expect(try Self.decode([100, 60 << 2, 99] + long, 100) == long)
        #expect(try Self.decode([100, 61 << 2, 99, 0] + long, 100) == long)
        // A copy from an offset above 255 in the 1-byte form: its top 3 bits are in the tag.
        let block = (0..<300).map { UInt8($0 % 251) }
        let size = 304, last = 299, offset = 300
        let varint = [UInt8(0x80 | size & 0x7F), UInt8(size >> 7)]
        let literal = [UInt8(61 << 2), UInt8(last & 0xFF), UInt8(last >> 8)] + block
        let copy = [UInt8((offset >> 8) << 5 | (4 - 4) << 2 | 1), UInt8(offset & 0xFF)]
        #expect(try Self.decode(varint + literal + copy, size) == block + block.prefix(4))
        #expect(try Self.decode([0], 0) == [])
    }

    /// Each case states a length; `4` is what the page header says for the one that differs.
    @Test(arguments: [
        ([4, 3 << 2] + Array("ab".utf8), "a literal runs past the end"),
        ([8, 3 << 2] + Array("abcd".utf8) + [(4 - 1) << 2 | 2, 0, 0], "a copy reaches back 0 bytes, before the start"),
        ([8, 3 << 2] + Array("abcd".utf8) + [(4 - 1) << 2 | 2, 5, 0], "a copy reaches back 5 bytes, before the start"),
        ([8, 3 << 2] + Array("abcd".utf8), "it ends after 4 of its 8 bytes"),
        ([4, 3 << 2] + Array("abcd".utf8) + [0 << 2, 0x7A], "a literal runs past the stated length"),
        ([4, 3 << 2] + Array("abcd".utf8) + [(4 - 1) << 2 | 2, 4], "it ends inside an element"),
        ([5, 3 << 2] + Array("abcd".utf8), "it holds 5 bytes, the page header says 4"),
        ([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], "its length takes more than 5 bytes"),
    ] as [([UInt8], String)])
    func damagedDataIsAnErrorNamingWhatIsWrong(bytes: [UInt8], problem: String) {
        let stated = problem.hasPrefix("it holds") ? 4 : Int(bytes[0])
        let error = #expect(throws: ParquetError.self) { try Self.decode(bytes, stated) }
        #expect(error?.message == "t: damaged snappy data: \(problem)")
    }
}
