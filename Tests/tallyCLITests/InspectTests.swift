import Foundation
import Parquet
import Testing

/// `tally inspect`: schema, row groups and first rows of a Parquet file, as text that a file's
/// own bytes cannot turn into terminal commands or endless lines.
@Suite struct InspectTests {
    static func table(in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("t.parquet")
        let writer = try ParquetWriter(path: file.path, columns: [ParquetColumn("id\u{1B}[31m", .string), ParquetColumn("n", .int64)])
        try writer.append([ColumnBatch(.byteArray(ByteArrayColumn(["a\nb", String(repeating: "x", count: 200),
                                                                  String(repeating: "😀", count: 70)]))),
                           ColumnBatch(.int64([1, 2, 3]))])
        _ = try writer.close()
        return file
    }

    @Test func theSchemaAndFirstRowsAreShownWithTheFileBytesEscaped() throws {
        let folder = try EndToEnd.temporaryFolder("inspect")
        defer { EndToEnd.cleanUp(folder) }
        let file = try Self.table(in: folder)
        let result = try TallyBinary.run(["inspect", file.path, "--head", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix("t.parquet: 3 rows in 1 row group(s), created by tally-parquet") == true, "\(lines)")
        #expect(lines.contains(#"  id\x1B[31m: BYTE_ARRAY STRING, REQUIRED"#), "\(lines)")
        #expect(!result.stdout.contains("\u{1B}"))
        let rows = Array(lines.suffix(4)).map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(rows[0].hasPrefix(#"id\x1B[31m"#) && rows[0].hasSuffix("n"), "\(rows)")
        #expect(rows[1].hasPrefix(#"a\x0Ab"#) && rows[1].hasSuffix("1"), "\(rows)")
        #expect(rows[2].hasPrefix(String(repeating: "x", count: 63) + "…  ") && rows[2].hasSuffix("2"), "\(rows)")
        #expect(rows[3].hasPrefix(String(repeating: "😀", count: 63) + "…  ") && rows[3].hasSuffix("3"), "\(rows)")
    }

    @Test func aMissingFileIs66AndADamagedOne65() throws {
        let folder = try EndToEnd.temporaryFolder("inspect-bad")
        defer { EndToEnd.cleanUp(folder) }
        let missing = try TallyBinary.run(["inspect", folder.appendingPathComponent("none.parquet").path])
        #expect(missing.status == 66 && missing.stderr.contains("no such file"), "\(missing.stderr)")
        let file = try Self.table(in: folder)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count - 9).write(to: file)
        let damaged = try TallyBinary.run(["inspect", file.path])
        #expect(damaged.status == 65, "\(damaged.stderr)")
    }
}
