#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Encodes and compresses the column chunks of a row group on up to `threads` threads, and
/// hands them on in column order as soon as each and those before it are done.
///
/// Each thread has its own `ColumnChunkWriter` (and zstd context) and takes the next column not
/// yet taken. A chunk's bytes depend only on its rows and the options, and the chunks are
/// handed on in column order, so the file is byte-identical for any thread count. At most
/// `threads + 1` chunks are taken and not yet handed on, so a row group's encoded chunks are
/// never all in memory at once (B3's peak: 163 → 156 MiB), while a thread that finishes before
/// the chunk ahead of it can still go on to the next (with only `threads`, B1 writes 25% slower).
/// Not thread-safe itself: one owner calls `encode`.
final class ChunkEncoderPool {
    private var writers: [ColumnChunkWriter]

    init(options: ParquetWriterOptions) throws {
        var threads = options.encodingThreads
        if threads == 0 { threads = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
        writers = try (0..<threads).map { _ in
            ColumnChunkWriter(options: options, compressor: options.compression == .none ? nil : try ZstdCompressor())
        }
    }

    /// Encodes the chunks of `buffers` and calls `write` with each, in column order, one call at
    /// a time (on any thread). Rethrows the first error of an encoding or a `write`; no chunk
    /// after it is written.
    func encode(_ buffers: [ColumnBuffer], write: (EncodedChunk) throws -> Void) throws {
        let threads = min(writers.count, buffers.count)
        if threads <= 1 {
            for buffer in buffers { try write(writers[0].encode(buffer)) }
            return
        }
        let order = WriteOrder(columns: buffers.count, window: threads + 1)
        // An atomic counter, not a Mutex: ThreadSanitizer sees atomics but not the inside of
        // the (uninstrumented) Synchronization.Mutex on Linux.
        let next = Atomic<Int>(0)
        try withoutActuallyEscaping(write) { write in
            writers.withUnsafeMutableBufferPointer { writers in
                // Thread `t` uses only writers[t]; `order` serializes the writes.
                let shared = UncheckedSendable((writers, write))
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    let (writers, write) = shared.value
                    while order.enterWindow() {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < buffers.count else { return order.leaveWindow() }
                        order.finish(index, Result { try writers[thread].encode(buffers[index]) }, write: write)
                    }
                }
            }
            try order.result()
        }
    }
}

/// Hands encoded chunks to the file in column order, and bounds how many are taken but not
/// yet written: a thread enters the window before taking a column and leaves it when that
/// column's chunk is written. The lowest column not yet written is always taken by a thread
/// that holds a place in the window, so the window never closes for good.
private final class WriteOrder: @unchecked Sendable {
    private let window: DispatchSemaphore
    /// Serializes `pending`, `written`, `failure` and the calls to `write`.
    private let queue = DispatchQueue(label: "parquet.chunk-order")
    private var pending: [Result<EncodedChunk, any Error>?]
    private var written = 0
    private var failure: (any Error)?
    /// Set once a chunk fails, so that no thread takes another column.
    private let failed = Atomic<Bool>(false)

    init(columns: Int, window: Int) {
        self.window = DispatchSemaphore(value: window)
        pending = Array(repeating: nil, count: columns)
    }

    /// Waits for a place in the window; false once a chunk has failed.
    func enterWindow() -> Bool {
        window.wait()
        guard !failed.load(ordering: .relaxed) else {
            window.signal()
            return false
        }
        return true
    }

    func leaveWindow() { window.signal() }

    /// Records column `index`'s chunk and writes every chunk now next in order.
    func finish(_ index: Int, _ chunk: Result<EncodedChunk, any Error>, write: (EncodedChunk) throws -> Void) {
        queue.sync {
            pending[index] = chunk
            while written < pending.count, let ready = pending[written] {
                pending[written] = nil
                written += 1
                if failure == nil {
                    do { try write(ready.get()) } catch {
                        failure = error
                        failed.store(true, ordering: .relaxed)
                    }
                }
                window.signal()
            }
        }
    }

    /// Throws the first failure.
    func result() throws {
        try queue.sync { if let failure { throw failure } }
    }
}

/// Carries a value the compiler cannot prove safe across threads; the user states why it is.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
