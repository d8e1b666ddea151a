import Foundation
import Testing
@testable import Parquet

@Suite struct DeltaBinaryPackedEncoderTests {
    static func encode<T: FixedWidthInteger & SignedInteger>(_ values: [T]) -> [UInt8] {
        var out: [UInt8] = []
        values.withUnsafeBufferPointer { DeltaBinaryPackedEncoder.encode($0, into: &out) }
        return out
    }

    static func roundTrip<T: FixedWidthInteger & SignedInteger>(_ values: [T]) throws -> [T] {
        let bytes = encode(values)
        var decoder = DeltaBinaryPackedDecoder(bytes, range: 0..<bytes.count, what: "test")
        return try decoder.decode(count: values.count, maxBitWidth: T.bitWidth).map { T(truncatingIfNeeded: $0) }
    }

    @Test func oneToFiveIsTheNotesBytes() {
        // Header 128, 4 miniblocks, 5 values, first 1; one block: min delta 1, all widths 0.
        #expect(Self.encode([1, 2, 3, 4, 5] as [Int32]) == hex("80 01 04 05 02 02 00 00 00 00"))
        #expect(Self.encode([1, 2, 3, 4, 5] as [Int64]) == hex("80 01 04 05 02 02 00 00 00 00"))
    }

    @Test func theSpecExampleWithANegativeMinimumDeltaIsTheNotesBytes() {
        let expected = hex("80 01 04 08 0E 03 02 00 00 00 C0 3F 00 00 00 00 00 00")
        #expect(Self.encode([7, 5, 3, 1, 2, 3, 4, 5] as [Int32]) == expected)
        #expect(Self.encode([7, 5, 3, 1, 2, 3, 4, 5] as [Int64]) == expected)
    }

    @Test func zeroAndOneValuesAreAHeaderOnly() {
        #expect(Self.encode([] as [Int64]) == hex("80 01 04 00 00"))
        #expect(Self.encode([-3] as [Int32]) == hex("80 01 04 01 05"))
    }

    @Test func int32ExtremesWrapAndNeverUseMoreThan32Bits() throws {
        let values: [Int32] = [.max, .min, .max, 0, .min, -1, 1, .min, .max]
        #expect(try Self.roundTrip(values) == values)
        // The one block's widths follow four header varints and the min delta varint.
        let bytes = Self.encode(values)
        var position = 0
        for _ in 0..<5 {
            while bytes[position] & 0x80 != 0 { position += 1 }
            position += 1
        }
        #expect(bytes[position] == 32)
        #expect(bytes[(position + 1)...(position + 3)] == [0, 0, 0])
        #expect(bytes.count == position + 4 + 32 * 4)
    }

    @Test func int64ExtremesWrap() throws {
        let values: [Int64] = [.max, .min, .max, 0, .min, -1, 1, .min, .max, .max - 1, .min + 1]
        #expect(try Self.roundTrip(values) == values)
    }

    @Test(arguments: 0..<30)
    func decodingUndoesEncodingAndTheSizeEstimateIsExact(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed))
        let count = [0, 1, 2, 31, 32, 33, 127, 128, 129, 257, 1000, 5000][seed % 12]
        var values64: [Int64] = []
        var value = Int64.random(in: -1000...1000, using: &random)
        for _ in 0..<count {
            switch seed % 3 {
            case 0: value &+= Int64.random(in: 0...3, using: &random)            // sorted
            case 1: value = Int64.random(in: -50...50, using: &random)           // narrow
            default: value = Int64.random(in: .min ... .max, using: &random)     // anything
            }
            values64.append(value)
        }
        let values32 = values64.map { Int32(truncatingIfNeeded: $0) }
        #expect(try Self.roundTrip(values64) == values64)
        #expect(try Self.roundTrip(values32) == values32)
        #expect(values64.withUnsafeBufferPointer(DeltaBinaryPackedEncoder.encodedSize) == Self.encode(values64).count)
        #expect(values32.withUnsafeBufferPointer(DeltaBinaryPackedEncoder.encodedSize) == Self.encode(values32).count)
    }
}

@Suite struct BitPackingTests {
    @Test(arguments: [1, 2, 7, 8, 13, 31, 32, 33, 63, 64])
    func packing64BitValuesReadsBack(bitWidth: Int) {
        var random = SeededGenerator(seed: UInt64(bitWidth))
        let mask: UInt64 = bitWidth == 64 ? .max : (1 << UInt64(bitWidth)) - 1
        let values = (0..<67).map { _ in random.next() & mask }
        var out: [UInt8] = [0xAA]
        values.withUnsafeBufferPointer { BitPacking.pack($0, bitWidth: bitWidth, into: &out) }
        #expect(out.count == 1 + (67 * bitWidth + 7) / 8)
        var decoded: [UInt64] = []
        BitPacking.unpack(out, start: 1, bitWidth: bitWidth, count: 67) { decoded.append($0) }
        #expect(decoded == values)
    }
}

@Suite struct ByteArrayDictionaryTests {
    /// `strings` as byte rows: the column itself, or (`indexed`) indices into their distinct
    /// values listed in reverse byte order, so source rows and entries differ.
    static func rows(_ strings: [String], indexed: Bool) -> ByteRows {
        guard indexed else { return ByteRows(source: ByteArrayColumn(strings), indices: nil) }
        let values = Array(Set(strings)).sorted(by: >)
        return ByteRows(source: ByteArrayColumn(values), indices: strings.map { Int32(values.firstIndex(of: $0)!) })
    }

    @Test(arguments: [false, true])
    func entriesAreInOrderOfFirstAppearanceAndNullsAreSkipped(indexed: Bool) throws {
        let rows = Self.rows(["b", "a", "", "b", "zz", "a", ""], indexed: indexed)
        let validity = [true, true, true, true, false, true, true]
        let dictionary = try #require(ByteArrayDictionary.build(rows, isValid: { validity[$0] }, maxEntries: 10,
                                                                maxPlainBytes: 100))
        #expect(dictionary.entrySources == (indexed ? [1, 2, 3] : [0, 1, 2]))
        #expect(dictionary.indices == [0, 1, 2, 0, 0, 1, 2])
        #expect(dictionary.plainBytes == 4 + 1 + 4 + 1 + 4)
        #expect(dictionary.bitWidth == 2)
        var page: [UInt8] = []
        dictionary.appendPlain(of: rows, into: &page)
        #expect(page == hex("01 00 00 00 62 01 00 00 00 61 00 00 00 00"))
    }

    @Test(arguments: [false, true])
    func buildingStopsAtEitherLimit(indexed: Bool) {
        let rows = Self.rows(["aaaa", "bbbb", "cccc", "aaaa"], indexed: indexed)
        #expect(ByteArrayDictionary.build(rows, isValid: { _ in true }, maxEntries: 2, maxPlainBytes: 100) == nil)
        #expect(ByteArrayDictionary.build(rows, isValid: { _ in true }, maxEntries: 3, maxPlainBytes: 23) == nil)
        #expect(ByteArrayDictionary.build(rows, isValid: { _ in true }, maxEntries: 3, maxPlainBytes: 24)?.count == 3)
    }

    @Test func bitWidthIsTheCeilingOfLog2() {
        for (entries, width) in [(1, 0), (2, 1), (3, 2), (4, 2), (5, 3), (256, 8), (257, 9)] {
            let column = ByteArrayColumn((0..<entries).map { "v\($0)" })
            let dictionary = ByteArrayDictionary.build(ByteRows(source: column, indices: nil), isValid: { _ in true }, maxEntries: .max, maxPlainBytes: .max)
            #expect(dictionary?.bitWidth == width, "\(entries) entries")
        }
    }

    @Test func manyEntriesGrowTheTableAndKeepEveryIndex() throws {
        // 20k distinct values, each three times, in a scrambled order.
        let rows = (0..<60_000).map { ($0 * 7919) % 20_000 }
        let column = ByteArrayColumn(rows.map { "id-\($0)" })
        let dictionary = try #require(ByteArrayDictionary.build(ByteRows(source: column, indices: nil), isValid: { _ in true },
                                                                maxEntries: .max, maxPlainBytes: .max))
        #expect(dictionary.count == 20_000)
        for row in stride(from: 0, to: rows.count, by: 997) {
            #expect(column[dictionary.entrySources[Int(dictionary.indices[row])]] == column[row])
        }
    }

    @Test func theHashIsFixed() {
        // Seedless: the same on every run and machine. Golden values from an independent Python
        // version of the same function.
        let bytes = Array("sku-0000beef".utf8)
        #expect(bytes.withUnsafeBytes { ByteArrayDictionary.hashBytes($0.baseAddress!, $0.count) } == 0xF4F1_D118_B007_9EDE)
        #expect(ByteArrayDictionary.hashBytes(UnsafeRawPointer(bitPattern: 1)!, 0) == 0x877E_2011_D918_DD23)
    }
}

extension ByteArrayDictionary: Equatable {
    public static func == (a: Self, b: Self) -> Bool { a.entrySources == b.entrySources && a.indices == b.indices }
}
