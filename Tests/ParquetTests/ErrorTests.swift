import Foundation
import Testing
@testable import Parquet

@Suite struct WriterErrorTests {
    static let columns = [ParquetColumn("id", .int64), ParquetColumn("name", .string, nullable: true)]

    static func withWriter(_ body: (ParquetWriter) throws -> Void) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try body(try ParquetWriter(path: directory.appendingPathComponent("w.parquet").path, columns: columns, options: testOptions()))
    }

    @Test func aBatchThatDoesNotMatchTheSchemaIsRejected() throws {
        try Self.withWriter { writer in
            let names = ColumnBatch(.byteArray(ByteArrayColumn(["a"])))
            let wrongCount = try #require(throws: ParquetError.self) { try writer.append([ColumnBatch(.int64([1]))]) }
            #expect(wrongCount.message.hasSuffix("batch has 1 columns, schema has 2"))
            let wrongType = try #require(throws: ParquetError.self) { try writer.append([ColumnBatch(.int32([1])), names]) }
            #expect(wrongType.message.hasSuffix("column 'id' is int64, batch holds int32 values"))
            let wrongRows = try #require(throws: ParquetError.self) { try writer.append([ColumnBatch(.int64([1, 2])), names]) }
            #expect(wrongRows.message.hasSuffix("column 'name' has 1 rows, column 'id' has 2"))
            let wrongValidity = try #require(throws: ParquetError.self) {
                try writer.append([ColumnBatch(.int64([1])), ColumnBatch(names.values, validity: [true, false])])
            }
            #expect(wrongValidity.message.hasSuffix("column 'name' has 2 validity flags for 1 rows"))
            // A rejected batch leaves the writer usable.
            try writer.append([ColumnBatch(.int64([1])), names])
            #expect(try writer.close().rows == 1)
        }
    }

    @Test func aNullInANonNullableColumnIsRejected() throws {
        try Self.withWriter { writer in
            let error = try #require(throws: ParquetError.self) {
                try writer.append([ColumnBatch(.int64([1, 2]), validity: [true, false]),
                                   ColumnBatch(.byteArray(ByteArrayColumn(["a", "b"])))])
            }
            #expect(error.message.hasSuffix("column 'id' is not nullable but row 1 of the batch is null"))
        }
    }

    @Test func malformedOffsetsAreRejected() throws {
        try Self.withWriter { writer in
            var names = ByteArrayColumn(["abc"])
            names.offsets = [0, 5]
            #expect(throws: ParquetError.self) { try writer.append([ColumnBatch(.int64([1])), ColumnBatch(.byteArray(names))]) }
        }
    }

    @Test func indexedValuesOutOfRangeOrMalformedAreRejected() throws {
        try Self.withWriter { writer in
            let names = ByteArrayColumn(["a", "b"])
            for (indices, message) in [([1, 2] as [Int32], "row 1 has index 2, out of 0..<2"), ([0, -1], "row 1 has index -1, out of 0..<2")] {
                let batch = ColumnBatch(.indexed(IndexedByteArrays(values: names, indices: indices)), validity: [true, false])
                let error = try #require(throws: ParquetError.self) { try writer.append([ColumnBatch(.int64([1, 2])), batch]) }
                #expect(error.message.hasSuffix("column 'name': \(message)"))
            }
            var malformed = names
            malformed.offsets = [0, 5, 2]
            let bad = ColumnBatch(.indexed(IndexedByteArrays(values: malformed, indices: [0])))
            let error = try #require(throws: ParquetError.self) { try writer.append([ColumnBatch(.int64([1])), bad]) }
            #expect(error.message.hasSuffix("column 'name' has malformed byte array offsets in its indexed values"))
        }
    }

    @Test func aClosedWriterRefusesMoreWork() throws {
        try Self.withWriter { writer in
            try writer.close()
            #expect(throws: ParquetError.self) { try writer.close() }
            #expect(throws: ParquetError.self) { try writer.append([]) }
        }
    }

    @Test func badSchemasAndOptionsAreRejectedBeforeTheFileIsCreated() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("never.parquet").path
        #expect(throws: ParquetError.self) { try ParquetWriter(path: path, columns: []) }
        #expect(throws: ParquetError.self) { try ParquetWriter(path: path, columns: [ParquetColumn("a", .int32), ParquetColumn("a", .int64)]) }
        #expect(throws: ParquetError.self) { try ParquetWriter(path: path, columns: [ParquetColumn("a", .int32)], options: testOptions(rowGroupRows: 0)) }
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(throws: ParquetError.self) { try ParquetWriter(path: "/nonexistent-dir/x.parquet", columns: [ParquetColumn("a", .int32)]) }
    }
}

@Suite struct ReaderErrorTests {
    static func tinyBytes() throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try fixtureURL("tiny.parquet")))
    }

    /// Writes `bytes` to a temporary file, opens it and reads every column.
    static func readAll(_ bytes: [UInt8]) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("f.parquet").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reader = try ParquetReader(path: path)
        for column in reader.columns { _ = try reader.read(column: column.name) }
    }

    @Test func aTruncatedFileIsAnErrorAtEveryLength() throws {
        let bytes = try Self.tinyBytes()
        for length in 0..<bytes.count {
            #expect(throws: ParquetError.self, "length \(length)") { try Self.readAll(Array(bytes[..<length])) }
        }
    }

    @Test func aFileWithoutMagicOrWithABadFooterLengthNamesTheProblem() throws {
        var bytes = try Self.tinyBytes()
        bytes[0] = 0x51
        let noMagic = try #require(throws: ParquetError.self) { try Self.readAll(bytes) }
        #expect(noMagic.message.hasSuffix("not a Parquet file (no PAR1 magic at the start)"))
        bytes = try Self.tinyBytes()
        bytes[212] = 0xFF
        let badLength = try #require(throws: ParquetError.self) { try Self.readAll(bytes) }
        #expect(badLength.message.hasSuffix("footer length 255 exceeds the 220-byte file"))
    }

    @Test func aMissingColumnIsAnErrorListingTheColumns() throws {
        let reader = try ParquetReader(path: try fixtureURL("tiny.parquet").path)
        let error = try #require(throws: ParquetError.self) { try reader.read(column: "nope") }
        #expect(error.message.hasSuffix("no column 'nope' (columns: x, s)"))
    }

    @Test func randomlyCorruptedFilesNeverCrashTheReader() throws {
        let clean = try Self.tinyBytes()
        for seed in 0..<500 {
            var random = SeededGenerator(seed: UInt64(seed))
            var bytes = clean
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let position = Int.random(in: 4..<(bytes.count - 4), using: &random)
                bytes[position] = UInt8.random(in: 0...255, using: &random)
            }
            // Either outcome is fine; a trap would end the test process.
            _ = try? Self.readAll(bytes)
        }
    }

    @Test func corruptedZstdPagesAreErrors() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TableFixture.allTypes(name: "z", compression: .zstd(level: 3), rows: 300).write(to: directory)
        let clean = [UInt8](try Data(contentsOf: directory.appendingPathComponent("z.parquet")))
        var random = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            var bytes = clean
            let position = Int.random(in: 4..<(bytes.count - 8), using: &random)
            bytes[position] ^= UInt8.random(in: 1...255, using: &random)
            _ = try? Self.readAll(bytes)
        }
    }
}
