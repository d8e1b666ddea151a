import Testing
@testable import Parquet

@Suite struct RLEHybridTests {
    static func encode(_ values: [UInt32], bitWidth: Int) -> [UInt8] {
        var out: [UInt8] = []
        RLEHybridEncoder.encode(values, bitWidth: bitWidth, into: &out)
        return out
    }

    static func decode(_ bytes: [UInt8], bitWidth: Int, count: Int) throws -> [UInt32] {
        var decoder = try RLEHybridDecoder(bytes, range: 0..<bytes.count, bitWidth: bitWidth, what: "test")
        return try decoder.decode(count: count)
    }

    @Test func theSpecExampleZeroToSevenAtWidth3IsOneBitPackedGroup() throws {
        #expect(Self.encode(Array(0...7), bitWidth: 3) == hex("03 88 C6 FA"))
        #expect(try Self.decode(hex("03 88 C6 FA"), bitWidth: 3, count: 8) == Array(0...7))
    }

    @Test func aThousandEqualLevelsAreOneRLERun() throws {
        #expect(Self.encode(Array(repeating: 1, count: 1000), bitWidth: 1) == hex("D0 0F 01"))
        #expect(try Self.decode(hex("D0 0F 01"), bitWidth: 1, count: 1000) == Array(repeating: 1, count: 1000))
    }

    @Test func levelsOneZeroOneArePaddedToOneGroup() throws {
        #expect(Self.encode([1, 0, 1], bitWidth: 1) == hex("03 05"))
        #expect(try Self.decode(hex("03 05"), bitWidth: 1, count: 3) == [1, 0, 1])
    }

    @Test func dictionaryIndicesOfTheNotesDecode() throws {
        // indices [0,1,2,1,0×8] at width 2: one bit-packed run of 2 groups (notes §3.1).
        let expected: [UInt32] = [0, 1, 2, 1] + Array(repeating: 0, count: 8)
        #expect(try Self.decode(hex("05 64 00 00 00"), bitWidth: 2, count: 12) == expected)
    }

    @Test func aLiteralGroupIsCompletedBeforeALongRun() throws {
        let values: [UInt32] = [1, 0, 1] + Array(repeating: 1, count: 20)
        let encoded = Self.encode(values, bitWidth: 1)
        // 3 literals + 5 ones make one group (0xFD), then an RLE run of 15 ones.
        #expect(encoded == hex("03 FD 1E 01"))
        #expect(try Self.decode(encoded, bitWidth: 1, count: values.count) == values)
    }

    @Test(arguments: 0..<40)
    func decodingUndoesEncodingForSeededRandomInputs(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed))
        let bitWidth = [0, 1, 2, 3, 5, 8, 13, 17, 24, 31, 32][seed % 11]
        let maxValue: UInt64 = bitWidth == 0 ? 0 : (1 << UInt64(bitWidth)) - 1
        let count = Int.random(in: 0...3000, using: &random)
        var values: [UInt32] = []
        while values.count < count {
            let value = UInt32(UInt64.random(in: 0...maxValue, using: &random))
            let run = Bool.random(using: &random) ? Int.random(in: 1...40, using: &random) : 1
            values.append(contentsOf: repeatElement(value, count: min(run, count - values.count)))
        }
        let encoded = Self.encode(values, bitWidth: bitWidth)
        #expect(try Self.decode(encoded, bitWidth: bitWidth, count: count) == values)
    }

    @Test func aStreamThatEndsEarlyIsAnError() throws {
        let error = try #require(throws: ParquetError.self) { try Self.decode(hex("03 05"), bitWidth: 1, count: 9) }
        #expect(error.message == "test: stream ended after 8 of 9 values")
        #expect(throws: ParquetError.self) { try Self.decode(hex("04"), bitWidth: 8, count: 2) }
        #expect(throws: ParquetError.self) { try Self.decode([], bitWidth: 33, count: 0) }
    }
}

@Suite struct DeltaBinaryPackedTests {
    static func decode(_ bytes: [UInt8], count: Int, maxBitWidth: Int = 64) throws -> [Int64] {
        var decoder = DeltaBinaryPackedDecoder(bytes, range: 0..<bytes.count, what: "test")
        return try decoder.decode(count: count, maxBitWidth: maxBitWidth)
    }

    @Test func oneToFiveDecodesFromTheNotesBytes() throws {
        #expect(try Self.decode(hex("80 01 04 05 02 02 00 00 00 00"), count: 5) == [1, 2, 3, 4, 5])
    }

    @Test func theSpecExampleWithANegativeMinimumDeltaDecodes() throws {
        let bytes = hex("80 01 04 08 0E 03 02 00 00 00 C0 3F 00 00 00 00 00 00")
        #expect(try Self.decode(bytes, count: 8) == [7, 5, 3, 1, 2, 3, 4, 5])
    }

    @Test func truncatedDeltaDataIsAnError() throws {
        let bytes = hex("80 01 04 08 0E 03 02 00 00 00 C0 3F")
        #expect(throws: ParquetError.self) { try Self.decode(bytes, count: 8) }
        #expect(throws: ParquetError.self) { try Self.decode(hex("80 01 04 02 0E"), count: 3) }
        #expect(throws: ParquetError.self) { try Self.decode(hex("81 01 04 02 0E"), count: 2) }
    }
}
