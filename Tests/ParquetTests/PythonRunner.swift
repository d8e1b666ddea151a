import Foundation
import Testing

/// Finds the interop Python and runs scripts from `Tests/interop/` with it.
///
/// The interpreter is `$TALLY_PYTHON` when set, else `<package root>/.venv/bin/python`; when
/// neither exists the calling test fails with a message saying to run `scripts/test`.
enum PythonRunner {
    /// The package root: three levels above this file (`Tests/ParquetTests/PythonRunner.swift`).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func interpreter() throws -> String {
        if let given = ProcessInfo.processInfo.environment["TALLY_PYTHON"], !given.isEmpty { return given }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: venv) else {
            throw InteropSetupError(message: """
                no Python for the interop tests: \(venv) does not exist and TALLY_PYTHON is not set. \
                Run scripts/test (it creates .venv with pyarrow, duckdb, polars and numpy).
                """)
        }
        return venv
    }

    /// Runs `Tests/interop/<script>` with `arguments`; returns the exit status and combined output.
    static func run(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try interpreter())
        process.arguments = [packageRoot.appendingPathComponent("Tests/interop/\(script)").path] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}

struct InteropSetupError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
