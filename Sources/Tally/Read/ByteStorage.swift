import Foundation

/// Raw buffers kept for reuse instead of being freed: recycled batch buffers stay mapped and
/// warm, so the reader does not page-fault its way through every new batch.
///
/// Thread-safe: buffers are taken on one thread (the reader's, a parser's) and come back from
/// whichever thread drops the last reference to them.
final class BufferPool: @unchecked Sendable {
    /// The most buffers kept; more are freed.
    let limit: Int
    // Confinement: `kept`, the (address, capacity) of the kept buffers, only under `lock` (an
    // NSLock: ThreadSanitizer cannot see Synchronization.Mutex on Linux).
    private let lock = NSLock()
    private var kept: [(address: UInt, capacity: Int)] = []

    init(limit: Int = 8) {
        self.limit = limit
    }

    deinit {
        for buffer in kept { UnsafeMutableRawPointer(bitPattern: buffer.address)!.deallocate() }
    }

    /// A buffer of at least `capacity` usable bytes (plus `ByteStorage.padding`): the smallest
    /// kept one that is large enough, else a new one.
    func take(capacity: Int) -> ByteStorage {
        let reused = lock.withLock { () -> (address: UInt, capacity: Int)? in
            var best: Int?
            for index in kept.indices where kept[index].capacity >= capacity {
                if best == nil || kept[index].capacity < kept[best!].capacity { best = index }
            }
            return best.map { kept.remove(at: $0) }
        }
        if let reused {
            return ByteStorage(base: UnsafeMutableRawPointer(bitPattern: reused.address)!,
                               capacity: reused.capacity, pool: self)
        }
        return ByteStorage(capacity: capacity, pool: self)
    }

    /// Keeps `base` for reuse, or frees it (the smallest goes when the pool is full).
    fileprivate func give(_ base: UnsafeMutableRawPointer, capacity: Int) {
        let dropped = lock.withLock { () -> UInt? in
            kept.append((UInt(bitPattern: base), capacity))
            guard kept.count > limit else { return nil }
            let smallest = kept.indices.min { kept[$0].capacity < kept[$1].capacity }!
            return kept.remove(at: smallest).address
        }
        if let dropped { UnsafeMutableRawPointer(bitPattern: dropped)!.deallocate() }
    }
}

/// One heap allocation of bytes, shared by reference; goes back to its pool (or is freed) when
/// the last reference goes.
///
/// Written only by its creator before it is shared, read-only afterwards: that is what makes it
/// safe to send. `padding` bytes after `capacity` may be read (never written) by word-at-a-time
/// loops, so that an 8-byte load at any position below `capacity` stays inside the allocation.
final class ByteStorage: @unchecked Sendable {
    static let padding = 16
    static let alignment = 64

    let base: UnsafeMutableRawPointer
    /// Usable bytes (the padding excluded).
    let capacity: Int
    private let pool: BufferPool?

    /// A fresh allocation, returned to `pool` (if any) at the end.
    init(capacity: Int, pool: BufferPool? = nil) {
        precondition(capacity >= 0)
        base = .allocate(byteCount: capacity + Self.padding, alignment: Self.alignment)
        base.bindMemory(to: UInt8.self, capacity: capacity + Self.padding)
        self.capacity = capacity
        self.pool = pool
    }

    fileprivate init(base: UnsafeMutableRawPointer, capacity: Int, pool: BufferPool) {
        self.base = base
        self.capacity = capacity
        self.pool = pool
    }

    deinit {
        if let pool { pool.give(base, capacity: capacity) } else { base.deallocate() }
    }

    /// An empty storage to share.
    static let empty = ByteStorage(capacity: 0)
}

/// Immutable bytes in a `ByteStorage`, shared without copying: a batch's stream bytes, or a
/// parsed batch's field bytes. Indices run from 0 to `count`.
public struct BatchBytes: RandomAccessCollection, Sendable {
    let storage: ByteStorage
    public let count: Int

    init(_ storage: ByteStorage, count: Int) {
        precondition(count >= 0 && count <= storage.capacity)
        self.storage = storage
        self.count = count
    }

    /// No bytes.
    init() { self.init(ByteStorage.empty, count: 0) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "index out of range")
        return storage.base.load(fromByteOffset: position, as: UInt8.self)
    }

    /// Calls `body` with the bytes (valid only during the call).
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(storage) { try body(UnsafeRawBufferPointer(start: storage.base, count: count)) }
    }

    public func withContiguousStorageIfAvailable<Result>(
        _ body: (UnsafeBufferPointer<UInt8>) throws -> Result
    ) rethrows -> Result? {
        try withExtendedLifetime(storage) {
            try body(UnsafeBufferPointer(start: storage.base.assumingMemoryBound(to: UInt8.self), count: count))
        }
    }
}

extension BatchBytes: Equatable {
    public static func == (lhs: BatchBytes, rhs: BatchBytes) -> Bool {
        lhs.count == rhs.count && (lhs.storage === rhs.storage
            || lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in a.elementsEqual(b) } })
    }
}

/// Immutable `UInt32`s in a `ByteStorage` (offsets of records and fields), shared without copying.
struct UInt32Column: Sendable {
    let storage: ByteStorage
    let count: Int

    init(_ storage: ByteStorage, count: Int) {
        precondition(count >= 0 && count * 4 <= storage.capacity)
        self.storage = storage
        self.count = count
    }

    init() { self.init(ByteStorage.empty, count: 0) }

    subscript(index: Int) -> Int {
        precondition(index >= 0 && index < count, "index out of range")
        return Int(storage.base.load(fromByteOffset: index &* 4, as: UInt32.self))
    }
}

/// Builds a `UInt32Column`: reserve room, then append without further checks.
///
/// The hot loops copy `pointer` and `count` into locals, write, and store `count` back.
struct UInt32ColumnBuilder {
    private(set) var storage: ByteStorage
    private let pool: BufferPool?
    var count = 0
    /// Where entry 0 goes.
    private(set) var pointer: UnsafeMutablePointer<UInt32>
    /// Entries that fit.
    private(set) var capacity: Int

    init(capacity: Int, pool: BufferPool?) {
        let bytes = max(capacity, 16) * 4
        storage = pool?.take(capacity: bytes) ?? ByteStorage(capacity: bytes)
        self.pool = pool
        pointer = storage.base.assumingMemoryBound(to: UInt32.self)
        self.capacity = storage.capacity / 4
    }

    /// Makes room for `extra` more entries (grows geometrically, copying what is there).
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let bytes = max(needed, capacity * 2) * 4
        let bigger = pool?.take(capacity: bytes) ?? ByteStorage(capacity: bytes)
        bigger.base.copyMemory(from: storage.base, byteCount: count * 4)
        storage = bigger
        pointer = storage.base.assumingMemoryBound(to: UInt32.self)
        capacity = storage.capacity / 4
    }

    /// Appends one entry (room must have been reserved).
    @inline(__always)
    mutating func append(_ value: Int) {
        pointer[count] = UInt32(truncatingIfNeeded: value)
        count += 1
    }

    /// The entries, shared.
    var column: UInt32Column { UInt32Column(storage, count: count) }
}
