import Foundation
import Testing
@testable import Parquet

@Suite struct GoldenFileTests {
    /// The table of notes §2.3: `x` REQUIRED INT32 [1,2,3], `s` OPTIONAL STRING ["a", null, "bc"],
    /// PLAIN as in the notes (by default `x`, being sorted, would be DELTA_BINARY_PACKED).
    static func writeTiny(to path: String) throws -> ParquetFileInfo {
        var strings = ByteArrayColumn()
        strings.append("a")
        strings.append("")
        strings.append("bc")
        return try writeFile(path, [ParquetColumn("x", .int32), ParquetColumn("s", .string, nullable: true)],
                             [[ColumnBatch(.int32([1, 2, 3])), ColumnBatch(.byteArray(strings), validity: [true, false, true])]],
                             options: plainOnly(testOptions(.none, createdBy: "demo")))
    }

    @Test func theWriterReproducesTheGoldenFileByteForByte() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("tiny.parquet").path
        let info = try Self.writeTiny(to: path)
        let written = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let golden = [UInt8](try Data(contentsOf: try fixtureURL("tiny.parquet")))
        #expect(golden.count == 220)
        #expect(written == golden)
        #expect(info.rows == 3)
        #expect(info.rowGroups == 1)
        #expect(info.bytes == 220)
    }

    @Test func theFooterOfTheGoldenFileReserializesToTheSameBytes() throws {
        let golden = [UInt8](try Data(contentsOf: try fixtureURL("tiny.parquet")))
        let footer = Array(golden[67..<212])
        var reader = CompactReader(footer)
        let metadata = try ParquetFileMetadata(from: &reader)
        #expect(reader.remaining == 0)
        #expect(CompactWriter.serialize(metadata) == footer)
        #expect(metadata.createdBy == "demo")
        #expect(metadata.schema.map(\.name) == ["schema", "x", "s"])
        #expect(metadata.rowGroups[0].columns[1].metaData?.statistics?.nullCount == 1)
    }
}
