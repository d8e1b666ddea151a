import Testing
import Foundation
@testable import Tally

/// Some CSV text of `rows` lines.
func sampleCSV(rows: Int) -> [UInt8] {
    bytes("user_id,item_id,ts\n" + (0..<rows).map { "u\($0 % 97),sku-\($0 * 7919 % 10007),\(1_700_000_000 + $0)\n" }.joined())
}

@Suite struct ReadZstdTests {
    private func readError(_ name: String, _ data: [UInt8]) throws -> TallyError {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile(name, data)
        return try #require(throws: TallyError.self) { _ = try readAll(file) }
    }

    @Test func multiFrameFilesReadAsTheirConcatenation() throws {
        let text = sampleCSV(rows: 500)
        let folder = try TemporaryFolder()
        let whole = try readAll(try folder.inputFile("a.csv", text))
        let pieces = stride(from: 0, to: text.count, by: 777).map { Array(text[$0..<min($0 + 777, text.count)]) }
        let framed = try readAll(try folder.inputFile("b.csv.zst", zstdFrames(pieces)))
        #expect(framed == whole)
        #expect(whole.records.count == 500 && whole.lineCount == 501)
    }

    @Test func aFileIsZstdByItsNameOrByItsFirstBytes() throws {
        let folder = try TemporaryFolder()
        #expect(try folder.inputFile("plain.csv.zst", bytes("a\n")).isZstd == true)
        #expect(try folder.inputFile("plain.zstd", bytes("a\n")).isZstd == true)
        #expect(try folder.inputFile("PLAIN.CSV.ZST", bytes("a\n")).isZstd == true)
        #expect(try folder.inputFile("empty.csv.zst", []).isZstd == true)
        #expect(try folder.inputFile("packed.csv", zstdFrame(bytes("a\n"))).isZstd == true)
        #expect(try folder.inputFile("skip.csv", skippableFrame([1, 2]) + zstdFrame(bytes("a\n"))).isZstd == true)
        #expect(try folder.inputFile("empty.csv", []).isZstd == false)
        #expect(try folder.inputFile("short.csv", [0x28, 0xB5]).isZstd == false)
        #expect(try folder.inputFile("zst.csv", bytes("a\n")).isZstd == false)
    }

    /// A `.zst` file whose first bytes were damaged is an error, never CSV made of its bytes.
    @Test func aZstdFileThatDoesNotStartWithAFrameIsAnError() throws {
        var data = zstdFrame(sampleCSV(rows: 100))
        data[0] = 0x00
        let error = try readError("a.csv.zst", data)
        #expect(error.kind == .badInput && error.kind.exitCode == 65)
        #expect("\(error)" == "a.csv.zst: error: [read] not a zstd frame at byte 0")
        #expect("\(try readError("b.csv.zst", bytes("user_id,item_id\nu1,i1\n")))" == "b.csv.zst: error: [read] not a zstd frame at byte 0")
    }

    /// As the `zstd` tool says of it: an empty `.zst` file is not an empty log.
    @Test func anEmptyZstdFileIsTruncatedAndAnEmptyPlainFileHasNoRecords() throws {
        #expect("\(try readError("a.csv.zst", []))" == "a.csv.zst: error: [read] truncated zstd frame at byte 0")
        let folder = try TemporaryFolder()
        let plain = try readAll(try folder.inputFile("a.csv", []))
        #expect(plain.records.isEmpty && plain.lineCount == 0)
    }

    @Test(arguments: [10, 100, 1000])
    func aTruncatedFrameIsAnErrorWithItsOffset(cut: Int) throws {
        let data = zstdFrame(sampleCSV(rows: 2000))
        let error = try readError("a.csv.zst", Array(data.dropLast(cut)))
        #expect(error.kind == .badInput && error.kind.exitCode == 65)
        #expect("\(error)" == "a.csv.zst: error: [read] truncated zstd frame at byte \(data.count - cut)")
        #expect(error.location == InputLocation(path: "a.csv.zst"))
    }

    @Test func aTruncatedSecondFrameIsAnError() throws {
        let first = zstdFrame(sampleCSV(rows: 10)), second = zstdFrame(sampleCSV(rows: 3000))
        let error = try readError("a.csv.zst", first + second.prefix(second.count / 2))
        #expect("\(error)" == "a.csv.zst: error: [read] truncated zstd frame at byte \(first.count + second.count / 2)")
    }

    @Test func aCorruptFrameIsAnErrorNamingTheFrameAndZstdsReason() throws {
        let first = zstdFrame(sampleCSV(rows: 10), checksum: true)
        var second = zstdFrame(sampleCSV(rows: 100), checksum: true)
        second[second.count - 1] ^= 0xFF
        let error = try readError("a.csv.zst", first + second)
        #expect(error.kind == .badInput)
        #expect("\(error)" == "a.csv.zst: error: [read] corrupt zstd frame at byte \(first.count): Restored data doesn't match checksum (decoding fails in bytes \(first.count)–\(first.count + second.count - 1))")
    }

    /// In a file of one frame, the frame's start says nothing of where the damage is: the message
    /// also says in which 4 KiB decoding fails: where the damaged block (at most 128 KiB) ends.
    @Test func aCorruptFrameSaysHowFarDecodingWent() throws {
        var state: UInt64 = 7
        let text = bytes((0..<40_000).map { row -> String in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return "u\(state >> 40),sku-\(state >> 20 & 0xFFFFF),\(1_700_000_000 + row)\n"
        }.joined())
        var data = zstdFrame(text)
        let damage = data.count / 2
        for index in damage..<damage + 8 { data[index] ^= 0xFF }
        let error = try readError("a.csv.zst", data)
        let message = "\(error)"
        let prefix = "a.csv.zst: error: [read] corrupt zstd frame at byte 0: "
        #expect(message.hasPrefix(prefix))
        let bounds = try #require(message.split(separator: " ").last?.dropLast().split(separator: "–").compactMap { Int($0) })
        #expect(bounds.count == 2 && bounds[1] - bounds[0] < 4096, "\(message)")
        #expect(bounds[1] >= damage && bounds[1] - damage <= 128 << 10, "\(message), damage at \(damage) of \(data.count)")
    }

    @Test func garbledBlocksAreAnError() throws {
        var data = zstdFrame(sampleCSV(rows: 1000))
        for index in stride(from: 12, to: data.count - 8, by: 5) { data[index] = 0xFF }
        let error = try readError("a.csv.zst", data)
        #expect(error.kind == .badInput)
        #expect("\(error)".hasPrefix("a.csv.zst: error: [read] corrupt zstd frame at byte 0: "))
    }

    @Test(arguments: [bytes("garbage after the frame"), bytes("ab"), [0x00, 0x00, 0x00, 0x00, 0x01]])
    func bytesAfterTheLastFrameThatAreNoFrameAreAnError(trailing: [UInt8]) throws {
        let data = zstdFrame(sampleCSV(rows: 10))
        let error = try readError("a.csv.zst", data + trailing)
        #expect(error.kind == .badInput)
        #expect("\(error)" == "a.csv.zst: error: [read] unexpected data after the last zstd frame at byte \(data.count)")
    }

    @Test func thePrefixOfAFrameAfterTheLastFrameIsATruncatedFrame() throws {
        let data = zstdFrame(sampleCSV(rows: 10))
        let error = try readError("a.csv.zst", data + [0x28, 0xB5, 0x2F])
        #expect("\(error)" == "a.csv.zst: error: [read] truncated zstd frame at byte \(data.count + 3)")
    }

    @Test func skippableFramesAnywhereAreSkipped() throws {
        let text = sampleCSV(rows: 50)
        let folder = try TemporaryFolder()
        let data = skippableFrame(bytes("head")) + zstdFrame(Array(text[..<100])) + skippableFrame([], variant: 5)
            + zstdFrame(Array(text[100...])) + skippableFrame(Array(repeating: 7, count: 300), variant: 0xF)
        let result = try readAll(try folder.inputFile("a.csv.zst", data), options: .init(readSize: 7))
        #expect(result == (try readAll(try folder.inputFile("a.csv", text))))
    }

    @Test func errorsAreTheSameForEveryReadAndChunkSize() throws {
        let folder = try TemporaryFolder()
        var data = zstdFrame(sampleCSV(rows: 3000), checksum: true)
        data[data.count - 2] ^= 1
        #expect(data.count > 3 * 4096)
        let file = try folder.inputFile("a.csv.zst", data)
        // The checksum ends the frame: decoding fails in the last 4 KiB from the frame's start.
        let failing = (data.count - 1) / 4096 * 4096
        for size in [1, 3, 64, 4096, 1 << 20] {
            let error = try #require(throws: TallyError.self) {
                _ = try readAll(file, options: .init(readSize: size, chunkSize: size))
            }
            #expect("\(error)" == "a.csv.zst: error: [read] corrupt zstd frame at byte 0: Restored data doesn't match checksum (decoding fails in bytes \(failing)–\(data.count - 1))")
        }
    }

    @Test func aFileThatCannotBeReadIsAnIOError() throws {
        let folder = try TemporaryFolder()
        try folder.write("dir/x", [])
        let error = try #require(throws: TallyError.self) {
            _ = try InputFile(path: "dir", base: folder.path, currentDirectory: folder.path)
        }
        #expect(error.kind == .io && error.kind.exitCode == 74)
        #expect("\(error)" == "dir: error: [read] cannot read: Is a directory")
        let missing = try #require(throws: TallyError.self) {
            _ = try InputFile(path: "nope.csv", base: folder.path, currentDirectory: folder.path)
        }
        #expect("\(missing)" == "nope.csv: error: [read] cannot read: No such file or directory")
    }

    @Test func aFileThatVanishedBeforeReadingIsAnIOError() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("gone.csv", bytes("a\n"))
        try FileManager.default.removeItem(atPath: file.path)
        let error = try #require(throws: TallyError.self) { _ = try RecordReader(file: file, fileIndex: 0) }
        #expect(error.kind == .io)
        #expect("\(error)" == "gone.csv: error: [read] cannot open: No such file or directory")
    }
}
