import Foundation
import Testing
@testable import Tally

/// Publishing replaces the whole output folder, so it must hold nothing Tally did not write:
/// neither when the run starts nor when it publishes.
@Suite struct OutputFolderTests {
    @Test func aFileThatCameInWhileTheRunWentOnStopsThePublishAndStays() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/out"
        let output = try OutputFolder(path: path)
        _ = try folder.write("out/notes.txt", bytes("keep me"))
        try Data("new".utf8).write(to: URL(fileURLWithPath: output.file("summary.json")))
        let error = try #require(throws: TallyError.self) { try output.publish() }
        #expect(error.kind == .cannotCreateOutput && error.kind.exitCode == 73)
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["notes.txt"])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(Leftovers.marker) }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aPreviousOutputIsReplacedFileByFile() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/out"
        _ = try folder.write("out/counts.parquet", bytes("old"))
        _ = try folder.write("out/vocab_item.parquet", bytes("old"))
        let output = try OutputFolder(path: path)
        try Data("new".utf8).write(to: URL(fileURLWithPath: output.file("counts.parquet")))
        try output.publish()
        #expect(try FileManager.default.contentsOfDirectory(atPath: path) == ["counts.parquet"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/counts.parquet")) == Data("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out"])
    }

    /// An output file's name on a folder or a link is not Tally's: another tool's dataset.
    @Test func onlyRegularFilesOfTallysNamesAreItsOwn() throws {
        let folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/out/counts.parquet", withIntermediateDirectories: true)
        #expect(throws: TallyError.self) { _ = try OutputFolder(path: folder.path + "/out") }
        _ = try folder.write("file", bytes("x"))
        let error = try #require(throws: TallyError.self) { _ = try OutputFolder(path: folder.path + "/file") }
        #expect(error.message == "the output path exists and is not a folder")
    }
}
