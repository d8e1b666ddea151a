import Foundation
import Testing

/// Paths, processes and folders for the end-to-end tests, which run the built `tally` and then
/// the independent Python checks in `Tests/interop/e2e/`.
enum EndToEnd {
    /// The package root, found from this file's path.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var pipelines: URL { root.appendingPathComponent("pipelines") }
    static var sampleData: URL { root.appendingPathComponent("sample-data") }
    static var checkRun: String { root.appendingPathComponent("Tests/interop/e2e/check_run.py").path }
    static var crossCheck: String { root.appendingPathComponent("Tests/interop/e2e/crosscheck.py").path }

    /// The Python interpreter with the interop packages: `TALLY_PYTHON`, else `<root>/.venv/bin/python`.
    /// Records a failure (never a silent skip) when it is missing.
    static func python() throws -> String {
        let path = ProcessInfo.processInfo.environment["TALLY_PYTHON"]
            ?? root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: path),
                     """
                     No Python for the interop checks at \(path). Run scripts/test, which creates .venv \
                     from Tests/interop/requirements.txt, or set TALLY_PYTHON to an interpreter that has them.
                     """)
        return path
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// Everything the process said, for failure messages.
        var transcript: String { "exit \(status)\n--- stdout\n\(stdout)\n--- stderr\n\(stderr)" }
    }

    /// Runs `executable` with `arguments` in `directory` and waits; output goes through files, so
    /// a chatty child never blocks on a full pipe.
    static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Output {
        let scratch = try temporaryFolder("process")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Output(status: process.terminationStatus,
                      stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                      stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self))
    }

    /// Runs the built `tally`.
    static func tally(_ arguments: [String], in directory: URL? = nil) throws -> Output {
        try run(TallyBinary.url.path, arguments, in: directory)
    }

    /// Runs `check_run.py PIPELINE OUTPUT_DIR extra…`; records a failure with its report unless it passes.
    static func check(_ pipeline: URL, _ output: URL, _ extra: [String] = [],
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try run(try python(), [checkRun, pipeline.path, output.path, "--quiet"] + extra)
        #expect(result.status == 0, "check_run.py found differences:\n\(result.transcript)",
                sourceLocation: sourceLocation)
    }

    /// A new empty folder under the system's temporary folder.
    static func temporaryFolder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("tally-e2e-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A scratch copy of the repository's layout for running the example pipelines without
    /// touching the work tree: `pipelines/` copied, `sample-data` linked, outputs under `out/`.
    static func sandbox(_ name: String) throws -> URL {
        let folder = try temporaryFolder(name)
        try FileManager.default.copyItem(at: pipelines, to: folder.appendingPathComponent("pipelines"))
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("sample-data"),
                                                   withDestinationURL: sampleData)
        return folder
    }

    /// Removes a test's folder unless `TALLY_KEEP_TEMP` is set (to look at a failure).
    static func cleanUp(_ folder: URL) {
        if ProcessInfo.processInfo.environment["TALLY_KEEP_TEMP"] == nil {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    /// Writes `text` to `folder/name`, creating intermediate folders.
    @discardableResult
    static func write(_ text: String, to name: String, in folder: URL) throws -> URL {
        try write(Data(text.utf8), to: name, in: folder)
    }

    @discardableResult
    static func write(_ data: Data, to name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: url)
        return url
    }

    /// Every regular file under `folder`, by path relative to it, with its bytes.
    static func files(in folder: URL) throws -> [String: Data] {
        var result: [String: Data] = [:]
        let base = folder.resolvingSymlinksInPath().path
        guard let walker = FileManager.default.enumerator(atPath: base) else { return result }
        for case let relative as String in walker {
            var isFolder: ObjCBool = false
            let path = base + "/" + relative
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
                result[relative] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return result
    }
}
