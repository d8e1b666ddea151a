#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Synchronization

/// Encodes and compresses the column chunks of a row group on up to `threads` threads.
///
/// Each thread has its own `ColumnChunkWriter` (and zstd context) and takes the next column not
/// yet taken. A chunk's bytes depend only on its rows and the options, and the chunks come back
/// in column order, so the file is byte-identical for any thread count. Not thread-safe itself:
/// one owner calls `encode`.
final class ChunkEncoderPool {
    private var writers: [ColumnChunkWriter]

    init(options: ParquetWriterOptions) throws {
        var threads = options.encodingThreads
        if threads == 0 { threads = max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }
        writers = try (0..<threads).map { _ in
            ColumnChunkWriter(options: options, compressor: options.compression == .none ? nil : try ZstdCompressor())
        }
    }

    /// The chunks of `buffers`, in order.
    func encode(_ buffers: [ColumnBuffer]) throws -> [EncodedChunk] {
        let threads = min(writers.count, buffers.count)
        if threads <= 1 {
            return try buffers.map { try writers[0].encode($0) }
        }
        var results = [Result<EncodedChunk, any Error>?](repeating: nil, count: buffers.count)
        // An atomic counter, not a Mutex: ThreadSanitizer sees atomics but not the inside of
        // the (uninstrumented) Synchronization.Mutex on Linux.
        let next = Atomic<Int>(0)
        results.withUnsafeMutableBufferPointer { results in
            writers.withUnsafeMutableBufferPointer { writers in
                // Thread `t` uses only writers[t] and the result slots of the columns it takes.
                let shared = UncheckedSendable((results, writers))
                DispatchQueue.concurrentPerform(iterations: threads) { thread in
                    let (results, writers) = shared.value
                    while true {
                        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue
                        guard index < buffers.count else { return }
                        results[index] = Result { try writers[thread].encode(buffers[index]) }
                    }
                }
            }
        }
        return try results.map { try $0!.get() }
    }
}

/// Carries a value the compiler cannot prove safe across threads; the user states why it is.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
