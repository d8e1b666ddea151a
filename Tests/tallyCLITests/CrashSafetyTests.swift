import Foundation
import Testing

/// SIGKILL at any moment never damages the published output or the state; SIGINT and SIGTERM
/// stop cleanly with 130 and 143; the next run removes what an interrupted run left, succeeds,
/// and gives the same output as a clean run. Scheduler logs are JSON lines that say what happened.
@Suite(.serialized) struct CrashSafetyTests {
    static let arguments = ["pipelines/rolling-window.yaml", "--var", "days={2024-11-19,2024-11-20,2024-11-21}",
                            "--var", "date=d", "--quiet"]

    static func outputs(_ sandbox: URL) throws -> [String: Data] {
        let out = sandbox.appendingPathComponent("out/rolling-window/d")
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: out.path) where name != "summary.json" {
            files[name] = try Data(contentsOf: out.appendingPathComponent(name))
        }
        return files
    }

    /// Every temporary file or folder under `folder`.
    static func leftovers(_ folder: URL) -> [String] {
        let enumerator = FileManager.default.enumerator(atPath: folder.path)
        var found: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.contains(".tally-tmp-") { found.append(path) }
        }
        return found
    }

    /// Starts `tally run` and sends `signal` after `delay` seconds; returns its exit status.
    static func interrupt(after delay: Double, with signal: Int32, in sandbox: URL, state: String? = nil) throws -> Int32 {
        let process = Process()
        process.executableURL = TallyBinary.url
        process.arguments = ["run"] + arguments + (state.map { ["--state", $0] } ?? [])
        process.currentDirectoryURL = sandbox
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: delay)
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test func sigkillAtAnyPointLeavesTheOutputAndTheStateUsable() throws {
        let sandbox = try RollingWindowTests.sandbox()
        defer { EndToEnd.cleanUp(sandbox) }
        let first = try EndToEnd.tally(["run"] + Self.arguments, in: sandbox)
        try #require(first.status == 0, "\(first.transcript)")
        let published = try Self.outputs(sandbox)

        // A clean answer to compare with, from scratch, in another folder.
        let clean = try EndToEnd.tally(["run"] + Self.arguments + ["--state", sandbox.appendingPathComponent("clean-state").path], in: sandbox)
        try #require(clean.status == 0)
        let expected = try Self.outputs(sandbox)
        #expect(expected == published)

        // Change a day so the run has work to do, then kill it at several points.
        let day = sandbox.appendingPathComponent("sample-data/logs/2024-11-21.csv.zst")
        try RollingWindowTests.compress(try RollingWindowTests.decompress(day) + "u9,sku-late,view,1732200000,1.5\n", to: day)
        var seen: [(Double, [String: Data])] = []
        for delay in [0.05, 0.2, 0.5, 0.9, 1.5] {
            _ = try Self.interrupt(after: delay, with: SIGKILL, in: sandbox)
            seen.append((delay, try Self.outputs(sandbox)))
        }
        let after = try EndToEnd.tally(["run"] + Self.arguments, in: sandbox)
        try #require(after.status == 0, "\(after.transcript)")
        #expect(Self.leftovers(sandbox.appendingPathComponent("out")).isEmpty)
        let scratch = try EndToEnd.tally(["run"] + Self.arguments + ["--state", sandbox.appendingPathComponent("scratch-state").path], in: sandbox)
        try #require(scratch.status == 0)
        let fromScratch = try Self.outputs(sandbox)
        let rerun = try EndToEnd.tally(["run"] + Self.arguments, in: sandbox)
        try #require(rerun.status == 0)
        #expect(try Self.outputs(sandbox) == fromScratch)
        #expect(fromScratch != published)
        // After each kill the published folder was the previous output or the complete new one.
        for (delay, output) in seen {
            #expect(output == published || output == fromScratch, "after SIGKILL at \(delay) s")
        }
    }

    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func sigintAndSigtermStopCleanly(_ signal: Int32, _ code: Int32) throws {
        let sandbox = try RollingWindowTests.sandbox()
        defer { EndToEnd.cleanUp(sandbox) }
        let status = try Self.interrupt(after: 0.4, with: signal, in: sandbox)
        #expect(status == code)
        #expect(Self.leftovers(sandbox.appendingPathComponent("out")).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: sandbox.appendingPathComponent("out/rolling-window/d").path))
        let after = try EndToEnd.tally(["run"] + Self.arguments, in: sandbox)
        #expect(after.status == 0, "\(after.transcript)")
    }

    @Test func jsonLogLinesParseAndTellWhatHappened() throws {
        let sandbox = try RollingWindowTests.sandbox()
        defer { EndToEnd.cleanUp(sandbox) }
        let result = try EndToEnd.tally(["run"] + Self.arguments + ["--log-format", "json"], in: sandbox)
        #expect(result.status == 0)
        let events = try result.stderr.split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        for event in events {
            for key in ["time", "level", "event", "message"] { #expect(event[key] != nil, "\(key) missing in \(event)") }
        }
        #expect(events.map { $0["event"] as! String } == ["start", "file_done", "file_done", "file_done", "finish"])
        #expect(events.last?["exit_code"] as? Int == 0)
        #expect(events.dropFirst().dropLast().allSatisfy { $0["reused"] as? Bool == false && $0["rows"] as? Int == 100_000 })

        let again = try EndToEnd.tally(["run"] + Self.arguments + ["--log-format", "json"], in: sandbox)
        let reused = again.stderr.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["reused"] as? Bool
        }
        #expect(reused == [true, true, true])

        let failed = try EndToEnd.tally(["run", "pipelines/rolling-window.yaml", "--var", "days=none", "--var", "date=d",
                                         "--log-format", "json"], in: sandbox)
        #expect(failed.status == 66)
        let last = try JSONSerialization.jsonObject(with: Data(failed.stderr.split(separator: "\n").last!.utf8)) as! [String: Any]
        #expect(last["event"] as? String == "finish" && last["exit_code"] as? Int == 66 && last["level"] as? String == "error")
    }
}
