import Foundation
import Testing

/// `pipelines/rolling-window.yaml` day after day with its state cache: only new or changed files
/// are read, and every output equals a run from scratch, byte for byte.
@Suite struct RollingWindowTests {
    struct Run {
        var outputs: [String: Data]
        var summary: [String: Any]
    }

    /// A sandbox with its own copy of the sample logs, which the test changes.
    static func sandbox() throws -> URL {
        let folder = try EndToEnd.temporaryFolder("rolling-window")
        try FileManager.default.copyItem(at: EndToEnd.pipelines, to: folder.appendingPathComponent("pipelines"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("sample-data"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: EndToEnd.sampleData.appendingPathComponent("logs"),
                                         to: folder.appendingPathComponent("sample-data/logs"))
        return folder
    }

    static func run(_ days: String, in sandbox: URL, state: String? = nil) throws -> Run {
        var arguments = ["run", "pipelines/rolling-window.yaml", "--var", "days=\(days)", "--var", "date=d", "--quiet"]
        if let state { arguments += ["--state", state] }
        let result = try EndToEnd.tally(arguments, in: sandbox)
        try #require(result.status == 0, "\(result.transcript)")
        let out = sandbox.appendingPathComponent("out/rolling-window/d")
        var outputs: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) where name != "summary.json" {
            outputs[name] = try Data(contentsOf: out.appendingPathComponent(name))
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json"))) as! [String: Any]
        return Run(outputs: outputs, summary: summary)
    }

    static func reused(_ run: Run) -> [String: Bool] {
        let inputs = run.summary["inputs"] as! [[String: Any]]
        return Dictionary(uniqueKeysWithValues: inputs.map { (($0["path"] as! String).components(separatedBy: "/").last!, $0["reused"] as! Bool) })
    }

    @Test func aNewDayAndARewrittenDayAreTheOnlyFilesReadAgain() throws {
        let sandbox = try Self.sandbox()
        defer { EndToEnd.cleanUp(sandbox) }
        let scratch = sandbox.appendingPathComponent("scratch-state").path

        // Day one: nothing cached yet.
        let first = try Self.run("{2024-11-19,2024-11-20}", in: sandbox)
        #expect(Self.reused(first) == ["2024-11-19.csv.zst": false, "2024-11-20.csv.zst": false])

        // Day two: the window moves on; the day already counted is reused.
        let second = try Self.run("{2024-11-20,2024-11-21}", in: sandbox)
        #expect(Self.reused(second) == ["2024-11-20.csv.zst": true, "2024-11-21.csv.zst": false])
        try? FileManager.default.removeItem(atPath: scratch)
        #expect(second.outputs == (try Self.run("{2024-11-20,2024-11-21}", in: sandbox, state: scratch)).outputs)

        // An old day is rewritten (a late correction drops its last row): it is read again.
        let day = sandbox.appendingPathComponent("sample-data/logs/2024-11-20.csv.zst")
        let text = try Self.decompress(day)
        try Self.compress(String(text.dropLast().prefix(upTo: text.dropLast().lastIndex(of: "\n")!)) + "\n", to: day)
        let third = try Self.run("{2024-11-20,2024-11-21}", in: sandbox)
        #expect(Self.reused(third) == ["2024-11-20.csv.zst": false, "2024-11-21.csv.zst": true])
        #expect(third.outputs != second.outputs)
        try? FileManager.default.removeItem(atPath: scratch)
        #expect(third.outputs == (try Self.run("{2024-11-20,2024-11-21}", in: sandbox, state: scratch)).outputs)

        // The state holds one entry per file of the current window.
        let entries = try FileManager.default.contentsOfDirectory(atPath: sandbox.appendingPathComponent("out/state/rolling-window").path)
        #expect(entries.filter { $0.hasSuffix(".partial") }.count == 2)
    }

    static func decompress(_ url: URL) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        process.arguments = ["-dcq", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    static func compress(_ text: String, to url: URL) throws {
        let plain = url.deletingPathExtension()
        try Data(text.utf8).write(to: plain)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zstd")
        process.arguments = ["-qf", "--rm", plain.path, "-o", url.path]
        try process.run()
        process.waitUntilExit()
    }
}
