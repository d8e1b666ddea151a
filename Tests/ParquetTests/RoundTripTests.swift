import Foundation
import Testing
@testable import Parquet

@Suite struct RoundTripTests {
    @Test func theReaderReadsTheGoldenFile() throws {
        let reader = try ParquetReader(path: try fixtureURL("tiny.parquet").path)
        #expect(reader.columns == [ParquetColumn("x", .int32), ParquetColumn("s", .string, nullable: true)])
        #expect(reader.rowCount == 3)
        #expect(reader.metadata.createdBy == "demo")
        #expect(try reader.read(column: "x") == ColumnBatch(.int32([1, 2, 3])))
        let s = try reader.read(column: "s")
        #expect(s.validity == [true, false, true])
        guard case .byteArray(let strings) = s.values else { Issue.record("not byte arrays"); return }
        #expect(strings.string(at: 0) == "a")
        #expect(strings.string(at: 2) == "bc")
    }

    @Test(arguments: TableFixture.all().map(\.name))
    func everyFixtureReadsBackExactly(name: String) throws {
        let table = try #require(TableFixture.all().first { $0.name == name })
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let info = try table.write(to: directory)
        #expect(info.rows == table.rowCount)
        #expect(info.rowGroups == (table.rowCount + table.options.rowGroupRows - 1) / table.options.rowGroupRows)

        let reader = try ParquetReader(path: directory.appendingPathComponent("\(name).parquet").path)
        #expect(reader.columns == table.columns)
        #expect(reader.rowCount == table.rowCount)
        for (column, expected) in zip(table.columns, table.data) {
            let actual = try reader.read(column: column.name)
            #expect(actual.sameRows(as: expected), "column \(column.name) differs")
            #expect((actual.validity == nil) == (expected.nullCount == 0), "column \(column.name) validity")
        }
    }

    @Test func aZeroRowFileHasNoRowGroupsAndReadsAsEmptyColumns() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let info = try TableFixture.zeroRows().write(to: directory)
        #expect(info.rowGroups == 0)
        let reader = try ParquetReader(path: directory.appendingPathComponent("zero_rows.parquet").path)
        #expect(reader.metadata.rowGroups.isEmpty)
        #expect(try reader.read(column: "s") == ColumnBatch(.byteArray(ByteArrayColumn())))
    }

    @Test func theFooterKeepsTheBookkeepingRulesOfTheNotes() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = TableFixture.allTypes(name: "books", compression: .zstd(level: 3))
        let info = try table.write(to: directory)
        let path = directory.appendingPathComponent("books.parquet").path
        let fileSize = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(info.bytes == fileSize)

        let metadata = try ParquetReader(path: path).metadata
        #expect(metadata.version == 1)
        #expect(metadata.createdBy == "tally-parquet")
        #expect(metadata.keyValueMetadata == [ParquetKeyValue("fixture", "books")])
        #expect(metadata.columnOrders == Array(repeating: .typeDefined, count: table.columns.count))
        #expect(metadata.rowGroups.map(\.numRows) == [2000, 2000, 1000])
        var expectedOffset: Int64 = 4
        for (ordinal, group) in metadata.rowGroups.enumerated() {
            #expect(group.ordinal == Int16(ordinal))
            #expect(group.fileOffset == expectedOffset)
            var uncompressed: Int64 = 0, compressed: Int64 = 0
            for chunk in group.columns {
                let meta = try #require(chunk.metaData)
                // Chunks are contiguous (sizes include headers); a dictionary page comes first.
                if let dictionaryOffset = meta.dictionaryPageOffset {
                    #expect(dictionaryOffset == expectedOffset)
                    #expect(meta.dataPageOffset > dictionaryOffset)
                    #expect(meta.encodings.contains(.rleDictionary))
                    #expect(meta.encodingStats?.first == ParquetPageEncodingStats(pageType: 2, encoding: .plain, count: 1))
                } else {
                    #expect(meta.dataPageOffset == expectedOffset)
                    #expect(!meta.encodings.contains(.rleDictionary))
                    #expect(meta.encodingStats == nil)
                }
                #expect(meta.numValues == group.numRows)
                #expect(meta.codec == .zstd)
                #expect(meta.statistics?.nullCount != nil)
                expectedOffset += meta.totalCompressedSize
                uncompressed += meta.totalUncompressedSize
                compressed += meta.totalCompressedSize
            }
            #expect(group.totalByteSize == uncompressed)
            #expect(group.totalCompressedSize == compressed)
        }
    }

    @Test func smallPagesSplitAChunkIntoManyPages() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pages.parquet").path
        let values = (0..<10_000).map { Int64($0) }
        try writeFile(path, [ParquetColumn("v", .int64)], [[ColumnBatch(.int64(values))]],
                      options: plainOnly(testOptions(.zstd(level: 1), pageBytes: 800)))
        let reader = try ParquetReader(path: path)
        let meta = try #require(reader.metadata.rowGroups.first?.columns.first?.metaData)
        // 100 values per page: 100 page headers make the chunk far bigger than one header.
        #expect(meta.totalUncompressedSize > 80_000 + 100 * 10)
        #expect(try reader.read(column: "v") == ColumnBatch(.int64(values)))
    }

    @Test func statisticsFollowTheSortOrderRules() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("stats.parquet").path
        try writeFile(path, [ParquetColumn("i", .int32, nullable: true), ParquetColumn("s", .string),
                             ParquetColumn("zero", .double), ParquetColumn("nan", .double)],
                      [[ColumnBatch(.int32([5, -3, 0, 99]), validity: [true, true, false, false]),
                        ColumnBatch(.byteArray(ByteArrayColumn(["é", "z", "a", "Z"]))),
                        ColumnBatch(.double([0.0, 0.0, -0.0, 0.0])),
                        ColumnBatch(.double([1, .nan, 2, 3]))]])
        let chunks = try ParquetReader(path: path).metadata.rowGroups[0].columns.map { try #require($0.metaData) }
        #expect(chunks[0].minValue == .int32(-3))
        #expect(chunks[0].maxValue == .int32(5))
        #expect(chunks[0].statistics?.nullCount == 2)
        // Unsigned byte order: "é" (C3 A9) sorts after "z".
        #expect(chunks[1].minValue == .bytes(Array("Z".utf8)))
        #expect(chunks[1].maxValue == .bytes(Array("é".utf8)))
        #expect(chunks[2].statistics?.minValue == PlainEncoder.bytes(of: -0.0))
        #expect(chunks[2].statistics?.maxValue == PlainEncoder.bytes(of: 0.0))
        #expect(chunks[2].statistics?.nanCount == 0)
        #expect(chunks[3].statistics?.minValue == nil)
        #expect(chunks[3].statistics?.maxValue == nil)
        #expect(chunks[3].statistics?.nanCount == 1)
    }

    /// Byte-array min and max are the unsigned byte order's, for values that differ anywhere in
    /// their first 24 bytes or only in length (the 8–16-byte ones are compared as words), copied
    /// or indexed (where each value is compared once), with nulls and in small row groups.
    @Test func byteArrayBoundsAreTheUnsignedByteOrders() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededGenerator(seed: 3)
        for trial in 0..<40 {
            let prefix = Array("sku-0000".utf8).prefix(Int.random(in: 0...8, using: &random))
            let values = (0..<300).map { _ in
                Array(prefix) + (0..<Int.random(in: 0...16, using: &random)).map { _ in UInt8.random(in: 0...2, using: &random) * 127 }
            }
            let indices = (0..<1000).map { _ in Int32.random(in: 0..<300, using: &random) }
            let validity = (0..<1000).map { _ in Int.random(in: 0..<5, using: &random) > 0 }
            let path = directory.appendingPathComponent("bounds\(trial).parquet").path
            var options = testOptions(rowGroupRows: 350)
            options.dictionary = trial % 2 == 0
            let columns = [ParquetColumn("copied", .bytes, nullable: true), ParquetColumn("indexed", .bytes, nullable: true)]
            var column = ByteArrayColumn()
            for value in values { column.append(value) }
            var copied = ByteArrayColumn()
            for index in indices { copied.append(values[Int(index)]) }
            let writer = try ParquetWriter(path: path, columns: columns, options: options)
            try writer.append([ColumnBatch(.byteArray(copied), validity: validity),
                               ColumnBatch(.indexed(IndexedByteArrays(values: column, indices: indices)), validity: validity)])
            try writer.close()
            let groups = try ParquetReader(path: path).metadata.rowGroups
            #expect(groups.count == 3)
            for (group, rows) in zip(groups, stride(from: 0, to: 1000, by: 350).map { $0..<min(1000, $0 + 350) }) {
                let present = rows.filter { validity[$0] }.map { values[Int(indices[$0])] }
                let lowest = present.min { $0.lexicographicallyPrecedes($1) }, highest = present.max { $0.lexicographicallyPrecedes($1) }
                for chunk in group.columns {
                    let statistics = try #require(chunk.metaData?.statistics)
                    #expect(statistics.minValue == lowest && statistics.maxValue == highest, "trial \(trial)")
                }
            }
        }
    }

    @Test func edgeCaseStatisticsOmitMinAndMaxWhereTheyWouldMislead() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TableFixture.edgeCases().write(to: directory)
        let chunks = try ParquetReader(path: directory.appendingPathComponent("edge_cases.parquet").path)
            .metadata.rowGroups[0].columns.map { try #require($0.metaData?.statistics) }
        #expect(chunks[1] == ParquetStatistics(nullCount: 2))          // all null
        #expect(chunks[2].minValue == nil && chunks[2].nullCount == 0)  // a 5000-byte value
        #expect(chunks[3] == ParquetStatistics(nullCount: 0, nanCount: 2))
    }
}
