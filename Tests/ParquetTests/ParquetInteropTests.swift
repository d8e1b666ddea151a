import Foundation
import Testing
@testable import Parquet

/// Cross-checks with independent implementations (pyarrow, DuckDB, Polars) through Python.
@Suite(.serialized) struct ParquetInteropTests {
    @Test func pyarrowDuckDBAndPolarsReadEveryValueOfOurFilesAndPruneCorrectly() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var files: [[String: Any]] = []
        for table in TableFixture.all() {
            let info = try table.write(to: directory)
            files.append(table.expectedJSON(rowGroups: info.rowGroups))
        }
        let json = try JSONSerialization.data(withJSONObject: ["files": files], options: [.sortedKeys])
        try json.write(to: directory.appendingPathComponent("expected.json"))

        let (status, output) = try PythonRunner.run("check_parquet.py", [directory.path])
        #expect(status == 0, "check_parquet.py failed:\n\(output)")
    }

    @Test func ourReaderReadsWhatPyarrowWrites() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (status, output) = try PythonRunner.run("write_pyarrow_fixtures.py", [directory.path])
        try #require(status == 0, "write_pyarrow_fixtures.py failed:\n\(output)")

        let json = try Data(contentsOf: directory.appendingPathComponent("expected.json"))
        let root = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let files = try #require(root["files"] as? [[String: Any]])
        #expect(files.count >= 5)
        for file in files {
            let name = try #require(file["file"] as? String)
            let path = directory.appendingPathComponent(name).path
            if let message = file["expect_error"] as? String {
                let error = try #require(throws: ParquetError.self, "\(name)") {
                    let reader = try ParquetReader(path: path)
                    for column in reader.columns { _ = try reader.read(column: column.name) }
                }
                #expect(error.message.contains(message), "\(name): \(error.message)")
                continue
            }
            let reader = try ParquetReader(path: path)
            #expect(reader.rowCount == file["rows"] as? Int, "\(name)")
            for column in try #require(file["columns"] as? [[String: Any]]) {
                let columnName = try #require(column["name"] as? String)
                let expected = try ColumnBatch(json: column)
                let actual = try reader.read(column: columnName)
                #expect(reader.columns.first { $0.name == columnName }?.type.description == column["type"] as? String,
                        "\(name) column \(columnName) type")
                #expect(actual.sameRows(as: expected), "\(name) column \(columnName) differs")
            }
        }
    }
}

extension ColumnBatch {
    /// The values of one column of the expected-values JSON (see `Tests/interop/expected_values.py`).
    init(json column: [String: Any]) throws {
        let type = column["type"] as? String
        let values = column["values"] as? [Any] ?? []
        let validity = values.map { !($0 is NSNull) }
        switch type {
        case "int32": self.init(.int32(values.map { Int32(truncatingIfNeeded: ($0 as? NSNumber)?.int64Value ?? 0) }), validity: validity)
        case "int64": self.init(.int64(values.map { ($0 as? NSNumber)?.int64Value ?? 0 }), validity: validity)
        case "double":
            self.init(.double(values.map { Double(bitPattern: UInt64(($0 as? String) ?? "0", radix: 16) ?? 0) }), validity: validity)
        case "string":
            self.init(.byteArray(ByteArrayColumn(values.map { ($0 as? String) ?? "" })), validity: validity)
        case "bytes":
            var column = ByteArrayColumn()
            for value in values {
                let text = Array((value as? String ?? "").utf8)
                column.append(stride(from: 0, to: text.count, by: 2).map { UInt8(String(decoding: text[$0..<$0 + 2], as: UTF8.self), radix: 16)! })
            }
            self.init(.byteArray(column), validity: validity)
        default:
            throw ParquetError("unknown column type \(type ?? "nil") in expected.json")
        }
    }
}
