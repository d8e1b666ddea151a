import Foundation
import Synchronization

/// The progress line on standard error: bytes read, rows, rows per second and the time left.
///
/// Only shown when standard error is a terminal (and not `--quiet`); redrawn at most every
/// 200 ms from a timer, so the reader only sets a few counters. The time left is estimated from
/// the on-disk bytes read so far, the current file's included, so one large file has it too.
final class Progress: @unchecked Sendable {  // the timer is only set up in init and cancelled in finish()
    private let totalBytes: Int64
    private let started = Clock.now
    private let filesBytes = Atomic<Int64>(0)
    private let currentFileBytes = Atomic<Int64>(0)
    private let decompressed = Atomic<Int64>(0)
    private let rows = Atomic<Int64>(0)
    private let finished = Atomic<Bool>(false)
    private let timer: DispatchSourceTimer

    /// A progress line for files of `totalBytes` on disk, or nil when standard error is not a
    /// terminal.
    static func onTerminal(totalBytes: Int64) -> Progress? {
        isatty(STDERR_FILENO) == 1 ? Progress(totalBytes: totalBytes) : nil
    }

    private init(totalBytes: Int64) {
        self.totalBytes = max(totalBytes, 1)
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "tally.progress"))
        timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200))
        timer.setEventHandler { [weak self] in self?.draw() }
        timer.resume()
    }

    /// Counts a batch handed to the workers, read from the current file as far as `fileBytes`
    /// on disk.
    func advance(bytes: Int, rows count: Int, fileBytes: Int64) {
        decompressed.add(Int64(bytes), ordering: .relaxed)
        rows.add(Int64(count), ordering: .relaxed)
        currentFileBytes.store(fileBytes, ordering: .relaxed)
    }

    /// Counts a finished file of `size` bytes on disk.
    func finishFile(_ size: Int64) {
        currentFileBytes.store(0, ordering: .relaxed)
        filesBytes.add(size, ordering: .relaxed)
    }

    /// Stops redrawing and clears the line (once; later calls do nothing).
    func finish() {
        guard !finished.exchange(true, ordering: .relaxed) else { return }
        timer.cancel()
        EventLog.write("\r\u{1B}[K")
    }

    private func draw() {
        let seconds = max(Clock.seconds(since: started), 1e-3)
        let done = filesBytes.load(ordering: .relaxed) + currentFileBytes.load(ordering: .relaxed)
        let rowCount = rows.load(ordering: .relaxed)
        let fraction = Double(done) / Double(totalBytes)
        var line = "\r\u{1B}[K  \(Self.megabytes(decompressed.load(ordering: .relaxed))) read, "
        line += "\(rowCount) rows, \(Int(Double(rowCount) / seconds)) rows/s"
        if fraction > 0 {
            line += ", ETA \(Int((seconds / fraction - seconds).rounded())) s"
        }
        EventLog.write(line)
    }

    private static func megabytes(_ bytes: Int64) -> String {
        String(format: "%.1f MB", Double(bytes) / 1e6)
    }
}
