import Foundation

/// Runs the `tally` binary that `swift build` put beside the test bundle.
struct TallyBinary {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var url: URL {
        // The test runner lives in the build products folder, next to the `tally` executable.
        let runner = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return runner.deletingLastPathComponent().appendingPathComponent("tally")
    }

    /// Runs `tally` with `arguments` in `directory`, and waits for it.
    static func run(_ arguments: [String], in directory: URL? = nil) throws -> Result {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe never blocks the child.
        let stderrData = readInBackground(err)
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: String(decoding: stdoutData, as: UTF8.self),
                      stderr: String(decoding: stderrData(), as: UTF8.self))
    }

    private final class Box: @unchecked Sendable { var data = Data() }

    /// Starts reading `pipe` to its end; the returned function waits for the bytes.
    private static func readInBackground(_ pipe: Pipe) -> () -> Data {
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let handle = pipe.fileHandleForReading
        DispatchQueue.global().async {
            box.data = handle.readDataToEndOfFile()
            done.signal()
        }
        return { done.wait(); return box.data }
    }
}
