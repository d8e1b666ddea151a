import CZstd
import Foundation
@testable import Tally

/// A fresh folder under the system's temporary folder, removed when the value is released.
final class TemporaryFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "tally-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes `bytes` to `name` inside the folder (creating subfolders) and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let file = path + "/" + name
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes `bytes` and returns the input file for it (display path relative to the folder).
    func inputFile(_ name: String, _ bytes: [UInt8]) throws -> InputFile {
        let file = try write(name, bytes)
        return try InputFile(path: file, base: path, currentDirectory: path)
    }
}

/// Zstd-compresses `bytes` in-process as one frame (libzstd's `ZSTD_compress2`).
func zstdFrame(_ bytes: [UInt8], level: Int32 = 3, checksum: Bool = false) -> [UInt8] {
    let context = ZSTD_createCCtx()!
    defer { ZSTD_freeCCtx(context) }
    ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
    ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
    var output = [UInt8](repeating: 0, count: ZSTD_compressBound(bytes.count))
    let size = output.withUnsafeMutableBytes { out in
        bytes.withUnsafeBytes { ZSTD_compress2(context, out.baseAddress, out.count, $0.baseAddress, $0.count) }
    }
    precondition(ZSTD_isError(size) == 0)
    return Array(output[..<size])
}

/// One zstd frame per piece, concatenated.
func zstdFrames(_ pieces: [[UInt8]]) -> [UInt8] {
    pieces.flatMap { zstdFrame($0) }
}

/// A skippable frame (magic 0x184D2A50 + `variant`) holding `payload`.
func skippableFrame(_ payload: [UInt8], variant: UInt8 = 0) -> [UInt8] {
    let size = UInt32(payload.count)
    return [0x50 + variant, 0x2A, 0x4D, 0x18,
            UInt8(size & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 24)] + payload
}

/// Bytes of a string.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A record as the reader hands it out: bytes, 1-based line, 0-based byte offset.
struct ReadRecord: Equatable, CustomStringConvertible {
    var text: [UInt8]
    var line: Int
    var offset: Int64
    var description: String { "\(line)@\(offset):\(String(decoding: text, as: UTF8.self).debugDescription)" }
}

/// Everything one `RecordReader` yields for a file.
struct ReadResult: Equatable {
    var header: Header?
    var records: [ReadRecord]
    var batchCount: Int
    var lineCount: Int
}

/// Reads `file` to the end and checks the batch invariants on the way.
func readAll(_ file: InputFile, options: RecordReader.Options = .init()) throws -> ReadResult {
    let reader = try RecordReader(file: file, fileIndex: 7, options: options)
    let header = try reader.header()
    var records: [ReadRecord] = []
    var batches: [RecordBatch] = []
    while let batch = try reader.next() { batches.append(batch) }
    for (index, batch) in batches.enumerated() {
        precondition(batch.fileIndex == 7 && batch.count > 0)
        precondition(index == batches.count - 1 || batch.bytes.count >= options.targetBatchBytes)
        for record in 0..<batch.count {
            records.append(ReadRecord(text: Array(batch.bytes[batch.range(ofRecord: record)]),
                                      line: batch.line(ofRecord: record),
                                      offset: batch.byteOffset(ofRecord: record)))
        }
    }
    return ReadResult(header: header, records: records, batchCount: batches.count, lineCount: reader.lineCount)
}

/// All fields (or problems) of every record of `file`.
func parseAll(_ file: InputFile, options: RecordReader.Options = .init(),
              fastPath: Bool = true) throws -> [Result<[[UInt8]], RecordProblem>] {
    let reader = try RecordReader(file: file, fileIndex: 0, options: options)
    let parser = CSVFieldParser(delimiter: options.delimiter, splitsUnquotedRecordsDirectly: fastPath)
    var results: [Result<[[UInt8]], RecordProblem>] = []
    while let batch = try reader.next() {
        let parsed = try parser.parse(batch)
        for record in 0..<parsed.count {
            if let problem = parsed.problem(ofRecord: record) {
                results.append(.failure(problem))
            } else {
                results.append(.success((0..<parsed.fieldCount(ofRecord: record)).map {
                    Array(parsed.field($0, ofRecord: record))
                }))
            }
        }
    }
    return results
}

/// The repository's root folder (for `sample-data/`).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()
