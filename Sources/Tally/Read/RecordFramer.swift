#if canImport(Glibc)
import Glibc
#endif

/// One record held apart from the batches (the header), with where it starts.
struct FramedRecord: Sendable, Equatable {
    var bytes: [UInt8]
    /// 1-based physical line.
    var line: Int
    /// 0-based offset in the decompressed stream.
    var byteOffset: Int64
}

/// Cuts one file's decompressed stream into `RecordBatch`es of whole records.
///
/// Feed the stream in order with `feed(_:)`, any chunk sizes, then call `finish()`; take the
/// batches with `takeBatch()`. Records end at LF, CRLF or a lone CR outside quotes, with
/// libcsv's non-strict quote rules (a `"` opens a quoted field only at the start of a field, and
/// text after a closing quote continues the quoted field). A UTF-8 byte-order mark at the start
/// is skipped; blank lines are skipped but counted. A batch is closed after the first record
/// that brings it to `targetBytes` record bytes, so the cut depends only on the content and
/// `targetBytes`. Sequential and not thread-safe: it runs on the reader thread.
final class RecordFramer {
    private enum State { case rowNotBegun, fieldNotBegun, unquoted, quoted, quoteInQuoted }

    private static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, quote: UInt8 = 0x22
    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    let fileIndex: Int
    let targetBytes: Int
    let delimiter: UInt8
    /// Whether the first record is the header: kept in `header`, not in a batch.
    let holdsHeader: Bool
    /// The first record, once seen, when `holdsHeader`.
    private(set) var header: FramedRecord?
    /// Records put into batches so far (the header excluded).
    private(set) var recordCount = 0
    /// Physical lines seen so far (a final line without line end counts once `finish()` ran).
    var lineCount: Int { line - 1 + (finished && lastByteWasData ? 1 : 0) }

    private var state = State.rowNotBegun
    private var line = 1
    private var previousWasCR = false
    private var lastByteWasData = false
    private var offset: Int64 = 0
    private var heldAtStart: [UInt8] = []
    private var startDecided = false
    private var finished = false

    private var recordLine = 0
    private var recordOffset: Int64 = 0
    private var bytes: [UInt8] = []
    private var recordStarts: [Int] = [0]
    private var lines: [Int] = []
    private var byteOffsets: [Int64] = []
    private var batchIndex = 0
    private var ready: [RecordBatch] = []

    /// - Parameters:
    ///   - fileIndex: stamped on every batch.
    ///   - targetBytes: minimum record bytes per batch (≥ 1), except for a file's last batch.
    ///   - delimiter: the field delimiter; neither `"`, CR nor LF.
    ///   - holdsHeader: keep the first record apart, as the header.
    init(fileIndex: Int, targetBytes: Int, delimiter: UInt8 = 0x2C, holdsHeader: Bool) {
        precondition(targetBytes >= 1)
        precondition(delimiter != Self.quote && delimiter != Self.lf && delimiter != Self.cr)
        self.fileIndex = fileIndex
        self.targetBytes = targetBytes
        self.delimiter = delimiter
        self.holdsHeader = holdsHeader
        bytes.reserveCapacity(min(targetBytes, 1 << 24) + 4096)
    }

    /// The number of completed batches not yet taken.
    var readyCount: Int { ready.count }

    /// Removes and returns the oldest completed batch.
    func takeBatch() -> RecordBatch? {
        ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Frames the next bytes of the stream.
    func feed(_ chunk: UnsafeRawBufferPointer) {
        precondition(!finished, "feed after finish")
        guard !startDecided else { return consume(chunk) }
        // Hold the first bytes until it is known whether they are a byte-order mark.
        let taken = min(3 - heldAtStart.count, chunk.count)
        heldAtStart.append(contentsOf: chunk[..<taken])
        let rest = UnsafeRawBufferPointer(rebasing: chunk[taken...])
        if heldAtStart == Self.byteOrderMark {
            startDecided = true
            offset += 3
        } else if heldAtStart.elementsEqual(Self.byteOrderMark.prefix(heldAtStart.count)) {
            return
        } else {
            startDecided = true
            heldAtStart.withUnsafeBytes { consume($0) }
        }
        consume(rest)
    }

    /// Ends the stream: a final record without line end (or with an unterminated quote) becomes
    /// a record, and the last batch is closed, marked `isLastInFile` (empty if need be).
    func finish() {
        guard !finished else { return }
        if !startDecided {
            startDecided = true
            heldAtStart.withUnsafeBytes { consume($0) }
        }
        finished = true
        if state != .rowNotBegun {
            completeRecord()
            state = .rowNotBegun
        }
        if !lines.isEmpty || batchIndex == 0 { closeBatch() }
        ready[ready.count - 1].isLastInFile = true
    }

    private func consume(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        let hasQuote = memchr(chunk.baseAddress!, Int32(Self.quote), chunk.count) != nil
        let hasCR = memchr(chunk.baseAddress!, Int32(Self.cr), chunk.count) != nil
        if !hasQuote && !hasCR && state != .quoted && state != .quoteInQuoted {
            consumeLinesOnly(chunk)
        } else {
            consumeByteByByte(chunk)
        }
        lastByteWasData = chunk[chunk.count - 1] != Self.lf && chunk[chunk.count - 1] != Self.cr
        offset += Int64(chunk.count)
    }

    /// The fast path: no quote and no CR in `chunk`, not inside a quoted field; finds LFs with memchr.
    private func consumeLinesOnly(_ chunk: UnsafeRawBufferPointer) {
        let count = chunk.count, base = chunk.baseAddress!
        var index = 0, segmentStart = 0
        if previousWasCR && chunk[0] == Self.lf { index = 1 }
        previousWasCR = false
        while index < count {
            if state == .rowNotBegun {
                while index < count && chunk[index] == Self.lf { line += 1; index += 1 }
                if index == count { break }
                startRecord(at: offset + Int64(index), line: line)
                segmentStart = index
                state = .unquoted
            }
            guard let found = memchr(base + index, Int32(Self.lf), count - index) else {
                state = chunk[count - 1] == delimiter ? .fieldNotBegun : .unquoted
                break
            }
            let end = UnsafeRawPointer(found) - UnsafeRawPointer(base)
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[segmentStart..<end]))
            completeRecord()
            state = .rowNotBegun
            line += 1
            index = end + 1
        }
        if state != .rowNotBegun {
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[segmentStart...]))
        }
    }

    /// The general path: libcsv's state machine, one byte at a time.
    private func consumeByteByByte(_ chunk: UnsafeRawBufferPointer) {
        let delimiter = self.delimiter
        var state = self.state, line = self.line, previousWasCR = self.previousWasCR
        var segmentStart = 0
        for index in 0..<chunk.count {
            let byte = chunk[index]
            let isLineEnd = byte == Self.lf || byte == Self.cr
            if isLineEnd {
                if byte == Self.cr || !previousWasCR { line += 1 }
                previousWasCR = byte == Self.cr
            } else {
                previousWasCR = false
            }
            switch state {
            case .rowNotBegun:
                if isLineEnd { continue }
                startRecord(at: offset + Int64(index), line: line)
                segmentStart = index
                state = byte == delimiter ? .fieldNotBegun : byte == Self.quote ? .quoted : .unquoted
            case .fieldNotBegun, .unquoted, .quoteInQuoted:
                if isLineEnd {
                    bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[segmentStart..<index]))
                    completeRecord()
                    state = .rowNotBegun
                } else if byte == delimiter {
                    state = .fieldNotBegun
                } else if byte == Self.quote {
                    state = state == .unquoted ? .unquoted : .quoted
                } else {
                    state = state == .quoteInQuoted ? .quoted : .unquoted
                }
            case .quoted:
                if byte == Self.quote { state = .quoteInQuoted }
            }
        }
        if state != .rowNotBegun {
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[segmentStart...]))
        }
        self.state = state
        self.line = line
        self.previousWasCR = previousWasCR
    }

    private func startRecord(at byteOffset: Int64, line: Int) {
        recordLine = line
        recordOffset = byteOffset
    }

    /// Ends the record whose bytes are `bytes[recordStarts.last!...]`.
    private func completeRecord() {
        if holdsHeader && header == nil {
            header = FramedRecord(bytes: Array(bytes[recordStarts[recordStarts.count - 1]...]),
                                  line: recordLine, byteOffset: recordOffset)
            bytes.removeSubrange(recordStarts[recordStarts.count - 1]...)
            return
        }
        recordStarts.append(bytes.count)
        lines.append(recordLine)
        byteOffsets.append(recordOffset)
        recordCount += 1
        if bytes.count >= targetBytes { closeBatch() }
    }

    private func closeBatch() {
        ready.append(RecordBatch(fileIndex: fileIndex, index: batchIndex, bytes: bytes,
                                 recordStarts: recordStarts, lines: lines, byteOffsets: byteOffsets))
        batchIndex += 1
        // The next batch holds about as many records: reserve once rather than grow by doubling.
        let expected = lines.count + lines.count / 8
        bytes = []
        bytes.reserveCapacity(min(targetBytes, 1 << 24) + 4096)
        recordStarts = []
        recordStarts.reserveCapacity(expected + 1)
        recordStarts.append(0)
        lines = []
        lines.reserveCapacity(expected)
        byteOffsets = []
        byteOffsets.reserveCapacity(expected)
    }
}
