import CZstd
import Foundation
import Testing
@testable import Tally

/// Cross-check against an independent CSV implementation: Python's `csv` module.
@Suite struct ReadMovieLensTests {
    /// Python prints every row's fields joined by 0x1F, each row ended by 0x1E, as UTF-8.
    private static let python = """
        import csv, sys
        out = sys.stdout.buffer
        with open(sys.argv[1], newline='', encoding='utf-8') as f:
            for row in csv.reader(f, strict=True):
                if row:
                    out.write('\\x1f'.join(row).encode('utf-8') + b'\\x1e')
        """

    @Test(arguments: [("ratings", 100_837), ("tags", 3_683), ("movies", 9_742)])
    func theReaderMatchesPythonsCSVModuleOnMovieLens(name: String, rowCount: Int) throws {
        let path = repositoryRoot + "/sample-data/movielens-small/\(name).csv.zst"
        let file = try InputFile(path: path, base: repositoryRoot)
        #expect(file.isZstd && file.relativePath == "sample-data/movielens-small/\(name).csv.zst")

        // Ours: stream, frame, parse (header included, as Python sees it).
        let reader = try RecordReader(file: file, fileIndex: 0, options: .init(targetBatchBytes: 64 << 10))
        let header = try #require(try reader.header())
        var ours = bytes(header.names.joined(separator: "\u{1F}") + "\u{1E}")
        let parser = CSVFieldParser()
        var rows = 0
        while let batch = try reader.next() {
            let parsed = try parser.parse(batch)
            #expect(parsed.problemCount == 0)
            for record in 0..<parsed.count {
                for field in 0..<parsed.fieldCount(ofRecord: record) {
                    if field > 0 { ours.append(0x1F) }
                    ours.append(contentsOf: parsed.field(field, ofRecord: record))
                }
                ours.append(0x1E)
                rows += 1
            }
        }

        // Python's, on the file decompressed in one shot by libzstd.
        let folder = try TemporaryFolder()
        let plain = try folder.write("\(name).csv", try Self.decompressWhole(path))
        let theirs = try Self.run(["python3", "-c", Self.python, plain])

        #expect(rows == rowCount)
        if ours != theirs {
            let mine = ours.split(separator: 0x1E, omittingEmptySubsequences: false)
            let python = theirs.split(separator: 0x1E, omittingEmptySubsequences: false)
            let first = zip(mine, python).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(mine.count, python.count)
            Issue.record("""
                row \(first) differs (ours \(mine.count) rows, Python \(python.count)): \
                \(mine.indices.contains(first) ? String(decoding: mine[first], as: UTF8.self) : "-") vs \
                \(python.indices.contains(first) ? String(decoding: python[first], as: UTF8.self) : "-")
                """)
        }
    }

    /// The whole file through `ZSTD_decompress` with a size from `ZSTD_getFrameContentSize`
    /// (independent of the streaming decoder under test).
    private static func decompressWhole(_ path: String) throws -> [UInt8] {
        let packed = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let size = packed.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        try #require(size < ZSTD_CONTENTSIZE_ERROR)
        var output = [UInt8](repeating: 0, count: Int(size))
        let written = output.withUnsafeMutableBytes { out in
            packed.withUnsafeBytes { ZSTD_decompress(out.baseAddress, out.count, $0.baseAddress, $0.count) }
        }
        try #require(ZSTD_isError(written) == 0 && written == Int(size))
        return output
    }

    private static func run(_ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0)
        return [UInt8](data)
    }
}
