#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// Encodes and compresses the column chunks of a row group on up to `threads` threads, and
/// hands them on in column order as soon as each and those before it are done.
///
/// Each thread has its own `ColumnChunkWriter` (and zstd context) and takes the next column not
/// yet taken. A chunk's bytes depend only on its rows and the options, and the chunks are
/// handed on in column order, so the file is byte-identical for any thread count. At most
/// `threads + 1` chunks are taken and not yet handed on, so a row group's encoded chunks are
/// never all in memory at once, while a thread that finishes before the chunk ahead of it can
/// still go on to the next (with a window of only `threads`, B1's write was 25% slower).
/// Not thread-safe itself: one owner calls `encode`.
final class ChunkEncoderPool {
    private var writers: [ColumnChunkWriter]
    /// Made once and reused by every row group (`WriteOrder.start` resets it).
    private let order: WriteOrder

    init(options: ParquetWriterOptions) throws {
        var threads = options.encodingThreads
        if threads == 0 { threads = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
        writers = try (0..<threads).map { _ in
            ColumnChunkWriter(options: options, compressor: options.compression == .none ? nil : try ZstdCompressor())
        }
        order = WriteOrder(window: threads + 1)
    }

    /// Encodes the chunks of `buffers` and calls `write` with each, in column order, one call at
    /// a time (on any thread, holding the pool's lock: `write` must not call back into the
    /// pool, and a thread done encoding waits while a chunk is written). Rethrows the error of
    /// the lowest column whose encoding or `write` fails, as one thread would; no chunk after
    /// it is written.
    func encode(_ buffers: [ColumnBuffer], write: (EncodedChunk) throws -> Void) throws {
        let threads = min(writers.count, buffers.count)
        if threads <= 1 {
            for buffer in buffers { try write(writers[0].encode(buffer)) }
            return
        }
        let order = order
        order.start(columns: buffers.count)
        try withoutActuallyEscaping(write) { write in
            writers.withUnsafeMutableBufferPointer { writers in
                // Thread `t` uses only writers[t]; `order` hands out the columns and serializes
                // the writes.
                let shared = UncheckedSendable((writers, write))
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    let (writers, write) = shared.value
                    while let index = order.take() {
                        order.finish(index, Result { try writers[thread].encode(buffers[index]) }, write: write)
                    }
                }
            }
            try order.result()
        }
    }
}

/// Hands out a row group's columns and hands their chunks to the file in column order, with
/// at most `window` columns taken and not yet written. Whenever the window is full, the
/// lowest column not yet written is still being encoded, and its `finish` reopens the window.
///
/// A pthread mutex and condition, which ThreadSanitizer sees (it does not see inside
/// Synchronization.Mutex on Linux), and which allocate nothing per call (a Dispatch queue's
/// `sync` wraps each closure in a block). Made once per pool, reused by every row group.
private final class WriteOrder: @unchecked Sendable {
    private let window: Int
    private let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Signalled when a place in the window frees up or a chunk fails.
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Guarded by `lock`:
    private var pending: [Result<EncodedChunk, any Error>?] = []
    private var taken = 0
    /// Columns handed on: written, or dropped after a failure.
    private var written = 0
    private var failure: (any Error)?

    init(window: Int) {
        self.window = window
        pthread_mutex_init(lock, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(lock)
        changed.deallocate()
        lock.deallocate()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body()
    }

    /// Prepares for a row group of `columns` columns.
    func start(columns: Int) {
        locked {
            pending.removeAll(keepingCapacity: true)
            pending.append(contentsOf: repeatElement(nil, count: columns))
            (taken, written, failure) = (0, 0, nil)
        }
    }

    /// The next column to encode, once a place in the window is free; nil when every column
    /// is taken or a chunk has failed.
    func take() -> Int? {
        locked {
            while failure == nil && taken < pending.count && taken - written >= window {
                pthread_cond_wait(changed, lock)
            }
            guard failure == nil && taken < pending.count else { return nil }
            taken += 1
            return taken - 1
        }
    }

    /// Records column `index`'s chunk and writes every chunk now next in order; after a
    /// failure, the rest are dropped unwritten.
    func finish(_ index: Int, _ chunk: Result<EncodedChunk, any Error>, write: (EncodedChunk) throws -> Void) {
        locked {
            pending[index] = chunk
            while written < pending.count, let ready = pending[written] {
                pending[written] = nil
                written += 1
                guard failure == nil else { continue }
                do { try write(ready.get()) } catch { failure = error }
            }
            pthread_cond_broadcast(changed)
        }
    }

    /// Throws the first failure.
    func result() throws {
        if let failure = locked({ failure }) { throw failure }
    }
}

/// Carries a value the compiler cannot prove safe across threads; the user states why it is.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
