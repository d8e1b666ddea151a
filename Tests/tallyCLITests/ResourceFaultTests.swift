import Foundation
import Testing

/// A full or unwritable output disk fails with 74 or 73, a clear message, and no partial output.
@Suite(.serialized) struct ResourceFaultTests {
    /// Mounts a 256 KiB tmpfs (the tests run as root, as CI does) for the duration of `body`.
    static func withSmallDisk(_ body: (URL) throws -> Void) throws {
        let mountPoint = try EndToEnd.temporaryFolder("small-disk")
        defer { try? FileManager.default.removeItem(at: mountPoint) }
        let mount = try EndToEnd.run("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=256k", "tmpfs", mountPoint.path])
        try #require(mount.status == 0, "cannot mount a small tmpfs (needs root): \(mount.transcript)")
        defer { _ = try? EndToEnd.run("/usr/bin/umount", [mountPoint.path]) }
        try body(mountPoint)
    }

    @Test func aFullDiskIsAnIOErrorAndLeavesNothingBehind() throws {
        try Self.withSmallDisk { disk in
            let sandbox = try EndToEnd.sandbox("full-disk")
            defer { EndToEnd.cleanUp(sandbox) }
            let pipeline = try String(contentsOf: sandbox.appendingPathComponent("pipelines/quickstart.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "../out/quickstart", with: disk.appendingPathComponent("out").path)
            try EndToEnd.write(pipeline, to: "pipelines/full.yaml", in: sandbox)
            let result = try EndToEnd.tally(["run", "pipelines/full.yaml", "--quiet"], in: sandbox)
            #expect(result.status == 74, "\(result.transcript)")
            #expect(result.stderr.contains("No space left on device"), "\(result.stderr)")
            #expect(try FileManager.default.contentsOfDirectory(atPath: disk.path).isEmpty)
        }
    }
}
