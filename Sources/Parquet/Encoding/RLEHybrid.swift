/// The RLE / bit-packing hybrid encoding (Encodings.md), used for levels and dictionary indices.
///
/// Runs of 8 or more equal values become RLE runs; everything else goes into bit-packed runs of
/// groups of 8, and only the final group is zero-padded. No length prefix is written here.
enum RLEHybridEncoder {
    /// Appends the encoding of `values` at `bitWidth` bits (0...32) to `out`.
    static func encode<C: RandomAccessCollection>(_ values: C, bitWidth: Int, into out: inout [UInt8])
    where C.Element == UInt32 {
        precondition((0...32).contains(bitWidth), "bit width out of range")
        var literals: [UInt32] = []
        var i = values.startIndex
        while i != values.endIndex {
            let value = values[i]
            var j = values.index(after: i)
            while j != values.endIndex && values[j] == value { j = values.index(after: j) }
            var runLength = values.distance(from: i, to: j)
            if runLength >= 8 {
                if !literals.isEmpty {
                    // Complete the last literal group with values from this run.
                    let pad = (8 - literals.count % 8) % 8
                    literals.append(contentsOf: repeatElement(value, count: pad))
                    runLength -= pad
                    flushLiterals(&literals, bitWidth: bitWidth, into: &out)
                }
                if runLength >= 8 {
                    writeRun(value: value, length: runLength, bitWidth: bitWidth, into: &out)
                } else {
                    literals.append(contentsOf: repeatElement(value, count: runLength))
                }
            } else {
                literals.append(contentsOf: values[i..<j])
            }
            i = j
        }
        flushLiterals(&literals, bitWidth: bitWidth, into: &out)
    }

    private static func writeRun(value: UInt32, length: Int, bitWidth: Int, into out: inout [UInt8]) {
        appendVarint(UInt64(length) << 1, to: &out)
        var v = value
        for _ in 0..<((bitWidth + 7) / 8) {
            out.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    private static func flushLiterals(_ literals: inout [UInt32], bitWidth: Int, into out: inout [UInt8]) {
        guard !literals.isEmpty else { return }
        let groups = (literals.count + 7) / 8
        literals.append(contentsOf: repeatElement(0, count: groups * 8 - literals.count))
        appendVarint(UInt64(groups) << 1 | 1, to: &out)
        BitPacking.pack(literals, bitWidth: bitWidth, into: &out)
        literals.removeAll(keepingCapacity: true)
    }
}

/// Appends `value` as an unsigned LEB128 varint.
func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
    var v = value
    while v >= 0x80 {
        out.append(UInt8(truncatingIfNeeded: v) | 0x80)
        v >>= 7
    }
    out.append(UInt8(v))
}

/// Decodes an RLE / bit-packing hybrid stream from `bytes[range]`, bounds-checking every read.
struct RLEHybridDecoder {
    private let bytes: [UInt8]
    private var position: Int
    private let end: Int
    private let bitWidth: Int
    private let what: String

    /// `what` names the stream in errors, e.g. "definition levels of column x".
    init(_ bytes: [UInt8], range: Range<Int>, bitWidth: Int, what: String) throws {
        guard (0...32).contains(bitWidth) else { throw ParquetError("\(what): bit width \(bitWidth) exceeds 32") }
        self.bytes = bytes
        self.position = range.lowerBound
        self.end = range.upperBound
        self.bitWidth = bitWidth
        self.what = what
    }

    /// Decodes exactly `count` values, calling `body` with each.
    mutating func decode(count: Int, _ body: (UInt32) throws -> Void) throws {
        var produced = 0
        while produced < count {
            guard position < end else {
                throw ParquetError("\(what): stream ended after \(produced) of \(count) values")
            }
            let header = try readVarint()
            if header & 1 == 0 {
                let runLength = header >> 1
                let width = (bitWidth + 7) / 8
                guard end - position >= width else { throw ParquetError("\(what): truncated RLE run") }
                var value: UInt32 = 0
                for k in 0..<width { value |= UInt32(bytes[position + k]) << (8 * k) }
                position += width
                let take = Int(min(runLength, UInt64(count - produced)))
                for _ in 0..<take { try body(value) }
                produced += take
            } else {
                let groups = header >> 1
                guard groups <= UInt64(Int32.max) else { throw ParquetError("\(what): bit-packed run too long") }
                let valuesInRun = Int(groups) * 8
                // The last run may be cut short by a writer; use the whole values the bytes hold.
                let bytesInRun = min(Int(groups) * bitWidth, end - position)
                let available = bitWidth == 0 ? valuesInRun : min(valuesInRun, bytesInRun * 8 / bitWidth)
                let needed = count - produced
                let take = min(available, needed)
                try BitPacking.unpack(bytes, start: position, bitWidth: bitWidth, count: take) { value in
                    try body(UInt32(truncatingIfNeeded: value))
                }
                position += bytesInRun
                produced += take
                if take < needed && available < valuesInRun {
                    throw ParquetError("\(what): stream ended after \(produced) of \(count) values")
                }
            }
        }
    }

    /// Decodes exactly `count` values into an array.
    mutating func decode(count: Int) throws -> [UInt32] {
        var values: [UInt32] = []
        values.reserveCapacity(min(count, 1 << 20))
        try decode(count: count) { values.append($0) }
        return values
    }

    private mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw ParquetError("\(what): truncated run header") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            if shift > 56 { throw ParquetError("\(what): run header varint too long") }
        }
    }
}
