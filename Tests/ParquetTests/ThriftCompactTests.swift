import Testing
@testable import Parquet

@Suite struct ThriftCompactTests {
    @Test(arguments: [
        (Int64(0), "00"), (-1, "01"), (1, "02"), (-2, "03"), (63, "7E"), (-64, "7F"), (64, "80 01"),
        (50399, "BE 93 06"), (Int64(Int32.max), "FE FF FF FF 0F"), (Int64(Int32.min), "FF FF FF FF 0F"),
        (Int64.max, "FE FF FF FF FF FF FF FF FF 01"), (Int64.min, "FF FF FF FF FF FF FF FF FF 01"),
    ])
    func zigzagVarintsMatchTheSpec(value: Int64, expected: String) throws {
        var writer = CompactWriter()
        writer.writeZigzag(value)
        #expect(writer.bytes == hex(expected))
        var reader = CompactReader(writer.bytes)
        #expect(try reader.readZigzag() == value)
        #expect(reader.remaining == 0)
    }

    @Test func anUnsignedVarintOf50399IsDF8903() throws {
        var writer = CompactWriter()
        writer.writeVarint(50399)
        #expect(writer.bytes == hex("DF 89 03"))
        var reader = CompactReader(writer.bytes)
        #expect(try reader.readVarint() == 50399)
    }

    @Test func fieldHeadersUseTheShortFormForDeltasUpTo15AndTheLongFormOtherwise() throws {
        var writer = CompactWriter()
        writer.beginStruct()
        writer.write(1, i32: 3)       // delta 1: 15 06
        writer.write(16, i32: 1)      // delta 15: F5 02
        writer.write(40, i64: -1)     // delta 24: long form 06, zigzag id 50, value 01
        writer.write(2, i32: 0)       // going backwards: long form 05 04 00
        writer.endStruct()
        #expect(writer.bytes == hex("15 06 F5 02 06 50 01 05 04 00 00"))

        var reader = CompactReader(writer.bytes)
        var seen: [Int16] = []
        try reader.readFields { reader, field in
            seen.append(field.id)
            _ = try reader.readI64(field)
        }
        #expect(seen == [1, 16, 40, 2])
    }

    @Test(arguments: [(14, "E5"), (15, "F5 0F"), (0, "05"), (300, "F5 AC 02")])
    func listHeadersSwitchToTheLongFormAt15Elements(count: Int, expected: String) throws {
        var writer = CompactWriter()
        writer.writeListHeader(count: count, of: .i32)
        #expect(writer.bytes == hex(expected))
        var padded = writer.bytes
        padded.append(contentsOf: repeatElement(0, count: count)) // the header's count is checked against what follows
        var reader = CompactReader(padded)
        let header = try reader.readListHeader()
        #expect(header.count == count)
        #expect(header.type == .i32)
    }

    @Test func boolFieldsCarryTheirValueInTheTypeNibble() throws {
        var writer = CompactWriter()
        writer.beginStruct()
        writer.write(7, bool: true)
        writer.write(8, bool: false)
        writer.endStruct()
        #expect(writer.bytes == hex("71 12 00"))
        var reader = CompactReader(writer.bytes)
        var values: [Bool] = []
        try reader.readFields { reader, field in values.append(try reader.readBool(field)) }
        #expect(values == [true, false])
    }

    @Test func theStringLogicalTypeIsTheUnionMember1HoldingAnEmptyStruct() {
        var writer = CompactWriter()
        writer.beginStruct()
        writer.write(10, struct: Wrapper())
        writer.endStruct()
        #expect(writer.bytes == hex("AC 1C 00 00 00"))

        struct Wrapper: ThriftStruct {
            init() {}
            init(from reader: inout CompactReader) throws {}
            func writeFields(to writer: inout CompactWriter) { writer.write(1, struct: EmptyStruct()) }
        }
    }

    @Test func unknownFieldsOfEveryTypeAreSkipped() throws {
        // A struct with: 1 bool true, 2 i8, 3 double, 4 binary, 5 list<bool>, 6 map<i32,string>,
        // 7 nested struct with a list of structs, 8 uuid, 9 set<i64>, then field 20 i32 = 7.
        var bytes: [UInt8] = [0x11, 0x13, 0x7F, 0x17] + [UInt8](repeating: 1, count: 8)
        bytes += [0x18, 0x02, 0x61, 0x62]
        bytes += [0x19, 0x21, 0x01, 0x00]
        bytes += [0x1B, 0x01, 0x58, 0x02, 0x01, 0x63]
        bytes += [0x1C, 0x19, 0x1C, 0x15, 0x02, 0x00, 0x00]
        bytes += [0x1D] + [UInt8](repeating: 9, count: 16)
        bytes += [0x1A, 0x16, 0x04]
        bytes += [0x05, 0x28, 0x0E, 0x00]
        var reader = CompactReader(bytes)
        var kept: Int32?
        try reader.readFields { reader, field in
            if field.id == 20 { kept = try reader.readI32(field) } else { try reader.skip(field.type) }
        }
        #expect(kept == 7)
        #expect(reader.remaining == 0)
    }

    @Test(arguments: [
        ("15", "unexpected end of data"),
        ("18 05 61", "binary length 5 exceeds the 1 bytes left"),
        ("19 F5 FF FF FF 0F", "list of 33554431 elements exceeds the 0 bytes left"),
        ("1C 1C 1C 1C", "unexpected end of data"),
        ("16 FF FF FF FF FF FF FF FF FF FF 01", "varint"),
        ("1E", "unknown field type 14"),
    ])
    func malformedThriftIsAnErrorNotACrash(input: String, message: String) throws {
        var reader = CompactReader(hex(input))
        let error = try #require(throws: ParquetError.self) {
            try reader.readFields { reader, field in try reader.skip(field.type) }
        }
        #expect(error.message.contains(message))
    }

    @Test func deeplyNestedStructsAreRejected() throws {
        var reader = CompactReader([UInt8](repeating: 0x1C, count: 10_000))
        let error = try #require(throws: ParquetError.self) {
            try reader.readFields { reader, field in try reader.skip(field.type) }
        }
        #expect(error.message.contains("nested deeper"))
    }
}
