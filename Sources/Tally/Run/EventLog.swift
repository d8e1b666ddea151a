import Foundation

/// What a run tells a scheduler: with `--log-format json`, one JSON object per line on standard
/// error — `time` (UTC, ISO 8601), `level`, `event`, `message` and the event's own fields — for
/// the start, each file done, the bad rows of each file, and the finish with its exit code.
/// With `text` (the default) only errors and the closing line are written, as plain text.
public final class EventLog: @unchecked Sendable {
    public enum Format: String, Sendable { case text, json }

    /// The log of this process.
    public static let shared = EventLog()

    // Confinement: `current` only under `lock` (an NSLock: ThreadSanitizer cannot see
    // Synchronization.Mutex on Linux).
    private let lock = NSLock()
    private var current = Format.text

    public var format: Format {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    /// A run starts.
    func start(_ pipeline: Pipeline, files: Int, workers: Int) {
        json("info", "start", "running \(pipeline.name) over \(files) input file(s)", [
            ("pipeline", .string(pipeline.name)), ("path", .string(InputFiles.display(pipeline.path))),
            ("files", .int(Int64(files))), ("workers", .int(Int64(workers))),
        ])
    }

    /// A file is counted (or its partial reused).
    func fileDone(_ file: InputFile, rows: RowStats, reused: Bool) {
        json("info", "file_done", "\(file.displayPath): \(rows.read) rows, \(rows.kept) kept\(reused ? " (reused)" : "")", [
            ("file", .string(file.displayPath)), ("bytes", .int(file.size)), ("rows", .int(Int64(rows.read))),
            ("kept", .int(Int64(rows.kept))), ("bad", .int(Int64(rows.bad))), ("reused", .bool(reused)),
        ])
    }

    /// A file had bad rows (skipped or quarantined); the first few are named.
    func badRows(_ rows: [BadRow], file: InputFile, policy: Pipeline.BadRows.Policy) {
        guard !rows.isEmpty else { return }
        if format == .text {
            let first = rows.prefix(3).map { "\($0.location): \($0.reason)" }.joined(separator: "; ")
            Self.write("warning: \(file.displayPath): \(rows.count) bad row(s), \(policy.rawValue == "skip" ? "skipped" : "quarantined"); first: \(first)".printable + "\n")
            return
        }
        json("warning", "bad_rows", "\(file.displayPath): \(rows.count) bad row(s), \(policy.rawValue)", [
            ("file", .string(file.displayPath)), ("count", .int(Int64(rows.count))), ("policy", .string(policy.rawValue)),
            ("first", .array(rows.prefix(5).map { row in
                .object([("line", row.location.line.map { .int(Int64($0)) } ?? .null),
                         ("column", row.location.column.map { .int(Int64($0)) } ?? .null),
                         ("reason", .string(row.reason))])
            })),
        ])
    }

    /// Something the user should know that does not stop the run.
    func warning(_ event: String, _ message: String) {
        if format == .text {
            Self.write("warning: \(message)".printable + "\n")
        } else {
            json("warning", event, message, [])
        }
    }

    /// The run ends with `exitCode`; `error` is its failure, if any.
    public func finish(exitCode: Int32, error: TallyError?, summary: String?) {
        if format == .text {
            if let error { Self.write("\(error)\n") }
            return
        }
        var fields: [(String, JSONValue)] = [("exit_code", .int(Int64(exitCode)))]
        if let error {
            fields.append(("stage", .string(error.stage.rawValue)))
            if let location = error.location { fields.append(("location", .string(location.description))) }
        }
        json(error == nil ? "info" : "error", "finish", error.map(\.description) ?? summary ?? "done", fields)
    }

    private func json(_ level: String, _ event: String, _ message: String, _ fields: [(String, JSONValue)]) {
        guard format == .json else { return }
        let line = JSONValue.object([("time", .string(Self.now())), ("level", .string(level)), ("event", .string(event)),
                                     ("message", .string(message))] + fields).compact()
        Self.write(line + "\n")
    }

    /// Writes to standard error with write(2); a closed stream (EPIPE) is ignored, not fatal.
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var done = 0
            while done < bytes.count {
                let n = Glibc.write(STDERR_FILENO, bytes.baseAddress! + done, bytes.count - done)
                if n < 0 { if errno == EINTR { continue }; return }
                done += n
            }
        }
    }

    /// The current time as `2026-11-28T05:10:02.123Z`.
    private static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var seconds = spec.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, spec.tv_nsec / 1_000_000)
    }
}
