import Dispatch
import Foundation

/// SIGINT and SIGTERM stop a run cleanly: this process's temporary files and folders are
/// removed (the published output and the state cache are only ever replaced by renames, so
/// they are intact), the finish is logged, and the process exits 130 or 143 (128 + the signal).
public enum Interruption {
    private static let sources = DispatchQueue(label: "tally.signals")
    nonisolated(unsafe) private static var installed: [DispatchSourceSignal] = []
    /// Held while a run publishes, and by a signal's handler before it cleans up.
    private static let publishing = NSLock()
    /// Whether a run has published (under `publishing`).
    nonisolated(unsafe) private static var published = false

    /// Runs `body`, which publishes a run's files by renames (the output folder, then the
    /// vocabularies), as one step: a signal that comes meanwhile waits for it, so an interruption
    /// never leaves the output published without its vocabularies. Once `body` has returned, a
    /// signal changes nothing: the run has succeeded and ends with its own exit code and log.
    public static func uninterrupted<Result>(_ body: () throws -> Result) rethrows -> Result {
        publishing.lock()
        defer { publishing.unlock() }
        let result = try body()
        published = true
        return result
    }

    /// Installs the handlers; call once, before the run.
    public static func install() {
        sources.sync {
            guard installed.isEmpty else { return }
            // A closed standard error (`tally … 2>&1 | head`) must not kill the run: writes
            // then fail with EPIPE and are dropped.
            signal(SIGPIPE, SIG_IGN)
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: sources)
                source.setEventHandler {
                    publishing.lock()
                    guard !published else { return publishing.unlock() }
                    // Not unlocked: the process ends here.
                    Leftovers.removeAll()
                    let code = 128 + signalNumber
                    let name = signalNumber == SIGINT ? "SIGINT" : "SIGTERM"
                    EventLog.shared.finish(exitCode: code, error: TallyError(.interrupted, stage: .run, "interrupted by \(name)"),
                                           summary: nil)
                    _exit(code)
                }
                source.resume()
                installed.append(source)
            }
        }
    }
}
