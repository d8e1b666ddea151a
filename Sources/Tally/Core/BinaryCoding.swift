/// A little-endian byte writer and reader for Tally's own binary files (partials, row-gradient
/// models, gradient parts).
struct ByteWriter {
    private(set) var bytes: [UInt8] = []

    /// The bytes written, then their SHA-256: a file that `ByteReader(sealed:)` checks.
    var sealed: [UInt8] { bytes + SHA256.hash(bytes) }

    mutating func write(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    mutating func write(_ value: Int) { write(Int64(value)) }
    mutating func write(_ value: Double) { write(value.bitPattern) }
    mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func write(_ value: Double?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ value: Int?) {
        write(value != nil)
        if let value { write(value) }
    }

    mutating func write(_ value: Int64?) {
        write(value != nil)
        if let value { write(value) }
    }

    /// A length, then the bytes.
    mutating func write(bytes value: some Collection<UInt8>) {
        write(value.count)
        bytes.append(contentsOf: value)
    }

    mutating func write(_ value: String) { write(bytes: Array(value.utf8)) }

    mutating func write<T: FixedWidthInteger>(array: [T]) {
        write(array.count)
        for value in array { write(UInt64(truncatingIfNeeded: value)) }
    }

    mutating func write(array: [Double]) {
        write(array.count)
        for value in array { write(value) }
    }
}

/// Reads what `ByteWriter` wrote; every read is checked, and throws `ByteReader.Malformed` for
/// bytes cut short or holding a value no writer writes.
struct ByteReader {
    struct Malformed: Error {}

    private let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// A reader of what `ByteWriter.sealed` wrote, without the SHA-256; nil when the bytes do not
    /// end with the SHA-256 of the rest (a damaged or foreign file).
    init?(sealed bytes: [UInt8]) {
        guard bytes.count > SHA256.byteCount,
              SHA256.hash(bytes.dropLast(SHA256.byteCount)) == Array(bytes.suffix(SHA256.byteCount))
        else { return nil }
        self.bytes = Array(bytes.dropLast(SHA256.byteCount))
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func uint64() throws -> UInt64 {
        guard position + 8 <= bytes.count else { throw Malformed() }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += 8
        return value
    }

    mutating func int64() throws -> Int64 { Int64(bitPattern: try uint64()) }

    mutating func int() throws -> Int {
        let value = try int64()
        guard value >= 0, value <= Int64(Int32.max) * 1024 else { throw Malformed() }
        return Int(value)
    }

    mutating func double() throws -> Double { Double(bitPattern: try uint64()) }

    mutating func bool() throws -> Bool {
        guard position < bytes.count, bytes[position] <= 1 else { throw Malformed() }
        position += 1
        return bytes[position - 1] == 1
    }

    mutating func optionalDouble() throws -> Double? { try bool() ? try double() : nil }
    mutating func optionalInt() throws -> Int? { try bool() ? try int() : nil }
    mutating func optionalInt64() throws -> Int64? { try bool() ? try int64() : nil }

    mutating func bytesValue() throws -> [UInt8] {
        let count = try int()
        guard position + count <= bytes.count else { throw Malformed() }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    mutating func string() throws -> String { String(decoding: try bytesValue(), as: UTF8.self) }

    mutating func array<T: FixedWidthInteger>(of: T.Type) throws -> [T] {
        let count = try int()
        guard position + 8 * count <= bytes.count else { throw Malformed() }
        return try (0..<count).map { _ in T(truncatingIfNeeded: try uint64()) }
    }

    mutating func doubles() throws -> [Double] {
        let count = try int()
        guard position + 8 * count <= bytes.count else { throw Malformed() }
        return try (0..<count).map { _ in try double() }
    }
}

extension ByteWriter {
    /// An id table: its keys back to back, their ends and their hashes.
    mutating func write(_ table: IdTable) {
        write(table.keyByteCount)
        table.forEachKey { key in key.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0) } }
        write(array: table.keyEnds)
        write(array: table.hashes)
    }
}

extension ByteReader {
    /// An id table as `ByteWriter.write(_: IdTable)` wrote it; nil when it is not a valid one.
    mutating func idTable() throws -> IdTable? {
        let keys = try bytesValue()
        let ends = try array(of: Int.self), hashes = try array(of: UInt32.self)
        return IdTable(keys: keys, ends: ends, hashes: hashes)
    }
}
