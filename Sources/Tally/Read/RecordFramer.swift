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

/// A record too long for a batch: it starts at `line` and `byteOffset` in the decompressed stream.
struct RecordTooLong: Error, Equatable {
    var line: Int
    var byteOffset: Int64
    var limit: Int
}

/// Cuts one file's decompressed stream into `RecordBatch`es of whole records.
///
/// The stream is written straight into the current batch's buffer: ask for `space(atMost:)`,
/// fill a prefix of it, `commit(_:)` the count; any chunk sizes give the same batches. Call `finish()` at the end; take the batches with
/// `takeBatch()`. Records end at LF, CRLF or a lone CR outside quotes: a `"` opens a quoted
/// field only at the start of a field (as in libcsv), and text after a closing quote continues
/// the field unquoted, so a malformed record ends at its own line end (libcsv's non-strict mode
/// would keep the field quoted and swallow the records after it). A UTF-8 byte-order mark at the start is
/// skipped; blank lines are skipped but counted. A batch is closed after the first record that
/// brings it to `targetBytes` record bytes (line ends not counted), or after the first record or
/// blank line that ends `4 × targetBytes` bytes or more after the batch's first record starts
/// (this bounds the buffer for inputs that are mostly blank lines), so the cut depends only on
/// the content and `targetBytes`.
///
/// A record with no quote before its line end (LF, CRLF or a lone CR) is found with `memchr`;
/// other records go through the byte-at-a-time state machine, which jumps with `memchr` over
/// the inside of quoted fields that hold no line end. Bytes are copied at most once
/// more after decompression: the tail of a buffer that follows the cut moves to the next
/// batch's buffer. Sequential and not thread-safe: it runs on the reader thread.
final class RecordFramer {
    /// The largest record (its bytes, line end excluded): the offsets in a batch are 32-bit.
    static let maximumRecordBytes = 256 << 20
    /// The largest `targetBytes`.
    static let maximumTargetBytes = 64 << 20

    let fileIndex: Int
    let targetBytes: Int
    let delimiter: UInt8
    /// Whether the first record is the header: kept in `header`, not in a batch.
    let holdsHeader: Bool
    /// The longest record accepted, in bytes.
    let maximumRecordBytes: Int
    /// The first record, once seen, when `holdsHeader`.
    private(set) var header: FramedRecord?
    /// Records put into batches so far (the header excluded).
    var recordCount: Int { recordsBefore + cursor.spans.count / 2 }
    /// Physical lines seen so far (a final line without line end counts once `finish()` ran).
    var lineCount: Int { cursor.line - 1 + (finished && lastByteWasData ? 1 : 0) }

    private let pool: BufferPool
    private let chunkSize: Int
    private let bufferCapacity: Int
    private var cursor: Cursor
    /// The current batch's buffer: `cursor.filled` bytes of the stream from `streamOffset` on.
    private var buffer: ByteStorage
    private var streamOffset: Int64 = 0
    private var recordsBefore = 0
    private var ready: [RecordBatch] = []
    private var startDecided = false
    private var finished = false
    private var streamBytes: Int64 = 0
    private var lastByte: UInt8 = Cursor.lf
    private var skippedByteOrderMark = false

    private var lastByteWasData: Bool {
        lastByte != Cursor.lf && lastByte != Cursor.cr && !(skippedByteOrderMark && streamBytes == 3)
    }

    /// - Parameters:
    ///   - fileIndex: stamped on every batch.
    ///   - targetBytes: minimum record bytes per batch (1 to `maximumTargetBytes`), except for a
    ///     file's last batch.
    ///   - delimiter: the field delimiter; neither `"`, CR nor LF.
    ///   - holdsHeader: keep the first record apart, as the header.
    ///   - chunkSize: the most bytes `space(atMost:)` hands out at once (≥ 1); the tail copied
    ///     at each cut is shorter than this.
    ///   - pool: where the batch buffers come from and go back to. It only keeps buffers that
    ///     batches gave back, so it never holds more than the most batches alive at once.
    init(fileIndex: Int, targetBytes: Int, delimiter: UInt8 = 0x2C, holdsHeader: Bool,
         chunkSize: Int = 64 << 10, pool: BufferPool = BufferPool(limit: 16),
         maximumRecordBytes: Int = RecordFramer.maximumRecordBytes) {
        precondition(targetBytes >= 1 && targetBytes <= Self.maximumTargetBytes && chunkSize >= 1)
        precondition(delimiter != Cursor.quote && delimiter != Cursor.lf && delimiter != Cursor.cr)
        precondition(maximumRecordBytes >= 1 && maximumRecordBytes <= Self.maximumRecordBytes)
        self.fileIndex = fileIndex
        self.targetBytes = targetBytes
        self.delimiter = delimiter
        self.holdsHeader = holdsHeader
        self.maximumRecordBytes = maximumRecordBytes
        self.chunkSize = chunkSize
        self.pool = pool
        // Room for the target, its line ends, and one chunk past the cut.
        bufferCapacity = targetBytes + targetBytes / 4 + min(chunkSize, 1 << 20) + 4096
        buffer = pool.take(capacity: bufferCapacity)
        cursor = Cursor(delimiter: delimiter, targetBytes: targetBytes, maximumRecordBytes: maximumRecordBytes,
                        holdsHeader: holdsHeader,
                        spans: UInt32ColumnBuilder(capacity: 1024, pool: pool))
    }

    /// The number of completed batches not yet taken.
    var readyCount: Int { ready.count }

    /// Removes and returns the oldest completed batch.
    func takeBatch() -> RecordBatch? {
        ready.isEmpty ? nil : ready.removeFirst()
    }

    /// Room for the next bytes of the stream: at least 1 and at most `limit` bytes, valid until
    /// the next call. Throws when a record grows past `maximumRecordBytes`.
    func space(atMost limit: Int) throws(RecordTooLong) -> UnsafeMutableRawBufferPointer {
        precondition(!finished, "space after finish")
        if cursor.filled == buffer.capacity { try makeRoom() }
        let count = min(limit, chunkSize, buffer.capacity - cursor.filled)
        return UnsafeMutableRawBufferPointer(start: buffer.base + cursor.filled, count: count)
    }

    /// Frames the `count` bytes just written at the start of `space(atMost:)`. Throws when a
    /// record is longer than `maximumRecordBytes`.
    func commit(_ count: Int) throws(RecordTooLong) {
        precondition(!finished, "commit after finish")
        guard count > 0 else { return }
        precondition(cursor.filled + count <= buffer.capacity)
        cursor.filled += count
        streamBytes += Int64(count)
        lastByte = buffer.base.load(fromByteOffset: cursor.filled - 1, as: UInt8.self)
        try frame()
    }

    /// Ends the stream: a final record without line end (or with an unterminated quote) becomes
    /// a record, and the records not yet in a batch make the last one.
    func finish() throws(RecordTooLong) {
        guard !finished else { return }
        finished = true
        try frame()
        if let end = cursor.finish() { try take(end) }
        if cursor.spans.count > 0 { closeBatch() }
    }

    /// Frames the bytes written but not yet looked at.
    private func frame() throws(RecordTooLong) {
        if !startDecided {
            let filled = cursor.filled
            guard filled >= 3 || finished else { return }
            let base = buffer.base.assumingMemoryBound(to: UInt8.self)
            if filled >= 3 && base[0] == 0xEF && base[1] == 0xBB && base[2] == 0xBF {
                cursor.scanned = 3
                skippedByteOrderMark = true
            }
            startDecided = true
        }
        while true {
            let end = cursor.scan(buffer.base.assumingMemoryBound(to: UInt8.self))
            if end == .needMore { return }
            try take(end)
        }
    }

    /// Acts on what the cursor stopped for.
    private func take(_ end: Cursor.Stop) throws(RecordTooLong) {
        switch end {
        case .needMore: break
        case .tooLong(let start, let line):
            throw RecordTooLong(line: line, byteOffset: streamOffset + Int64(start), limit: maximumRecordBytes)
        case .header(let start, let end, let line):
            header = FramedRecord(bytes: Array(UnsafeRawBufferPointer(start: buffer.base + start, count: end - start)),
                                  line: line, byteOffset: streamOffset + Int64(start))
        case .batchFull: closeBatch()
        }
    }

    /// Hands out the records framed so far as a batch, and moves the bytes after them to a new
    /// buffer.
    private func closeBatch() {
        let spans = cursor.spans.column
        precondition(cursor.filled <= Int(UInt32.max), "batch too large for 32-bit offsets")
        let used = spans.count > 0 ? spans[spans.count - 1] : 0
        // Word-at-a-time readers may look up to 7 bytes past the last record: make those defined.
        (buffer.base + cursor.filled).initializeMemory(as: UInt8.self, repeating: 0, count: ByteStorage.padding)
        ready.append(RecordBatch(fileIndex: fileIndex, bytes: BatchBytes(buffer, count: used),
                                 spans: spans, streamOffset: streamOffset, firstLine: cursor.firstLine,
                                 lines: cursor.lines))
        recordsBefore += spans.count / 2
        let cut = cursor.scanned
        let next = pool.take(capacity: bufferCapacity)
        let tail = cursor.filled - cut
        next.base.copyMemory(from: buffer.base + cut, byteCount: tail)
        buffer = next
        streamOffset += Int64(cut)
        cursor.startBatch(shiftedBy: cut, spans: UInt32ColumnBuilder(capacity: spans.count + 16, pool: pool))
    }

    /// Makes room in a full buffer: drops bytes no record needs when the batch has no record
    /// yet, else moves to a buffer twice as large.
    private func makeRoom() throws(RecordTooLong) {
        let partial = cursor.partialRecordStart
        if cursor.spans.count == 0 {
            let keep = partial ?? cursor.scanned
            if keep > 0 {
                buffer.base.copyMemory(from: buffer.base + keep, byteCount: cursor.filled - keep)   // may overlap
                streamOffset += Int64(keep)
                cursor.shift(by: keep)
                return
            }
        }
        if let partial, cursor.filled - partial > maximumRecordBytes {
            throw RecordTooLong(line: cursor.recordLine, byteOffset: streamOffset + Int64(partial), limit: maximumRecordBytes)
        }
        let bigger = ByteStorage(capacity: buffer.capacity * 2)
        bigger.base.copyMemory(from: buffer.base, byteCount: cursor.filled)
        buffer = bigger
    }
}

/// The framer's scanning state, kept in one struct so that the hot loop works on locals and
/// `inout self` without dynamic exclusivity checks.
private struct Cursor {
    enum State { case rowNotBegun, fieldNotBegun, unquoted, quoted, quoteInQuoted }

    /// Why `scan` returned.
    enum Stop: Equatable {
        /// Every byte written has been looked at.
        case needMore
        /// The header record was found at `start..<end` of the buffer.
        case header(start: Int, end: Int, line: Int)
        /// The batch is complete; the bytes from `scanned` on belong to the next one.
        case batchFull
        /// The record starting at `start` of the buffer, on `line`, is longer than allowed.
        case tooLong(start: Int, line: Int)
    }

    static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, quote: UInt8 = 0x22

    let delimiter: UInt8
    let targetBytes: Int
    let maximumRecordBytes: Int
    var wantsHeader: Bool

    /// Bytes written to the buffer.
    var filled = 0
    /// Bytes looked at.
    var scanned = 0
    var state = State.rowNotBegun
    /// The 1-based physical line of the next byte.
    var line = 1
    var previousWasCR = false
    /// Start and line of the record in progress (when `state != .rowNotBegun`).
    var recordStart = 0
    var recordLine = 0

    /// The batch's records so far.
    var spans: UInt32ColumnBuilder
    var recordBytes = 0
    var firstLine = 0
    var firstRecordStart = 0
    var lines: [Int]?

    init(delimiter: UInt8, targetBytes: Int, maximumRecordBytes: Int, holdsHeader: Bool, spans: UInt32ColumnBuilder) {
        self.delimiter = delimiter
        self.targetBytes = targetBytes
        self.maximumRecordBytes = maximumRecordBytes
        self.wantsHeader = holdsHeader
        self.spans = spans
    }

    /// Where the record in progress starts, if one is.
    var partialRecordStart: Int? { state == .rowNotBegun ? nil : recordStart }

    /// Forgets the batch's records; positions move down by `offset` (the bytes before it are gone).
    mutating func startBatch(shiftedBy offset: Int, spans: UInt32ColumnBuilder) {
        self.spans = spans
        recordBytes = 0
        lines = nil
        shift(by: offset)
    }

    mutating func shift(by offset: Int) {
        filled -= offset
        scanned -= offset
        recordStart -= offset
        firstRecordStart -= offset
    }

    /// The record in progress at the end of the stream, completed.
    mutating func finish() -> Stop? {
        guard state != .rowNotBegun else { return nil }
        state = .rowNotBegun
        return complete(start: recordStart, end: filled, line: recordLine)
    }

    /// Adds the record `start..<end` of the buffer; says whether to stop.
    @inline(__always)
    private mutating func complete(start: Int, end: Int, line: Int) -> Stop? {
        if end - start > maximumRecordBytes { return .tooLong(start: start, line: line) }
        if wantsHeader {
            wantsHeader = false
            return .header(start: start, end: end, line: line)
        }
        let index = spans.count >> 1
        if index == 0 {
            firstLine = line
            firstRecordStart = start
        } else if lines == nil && line != firstLine + index {
            lines = Array(firstLine..<firstLine + index)
        }
        lines?.append(line)
        spans.reserve(2)
        spans.append(start)
        spans.append(end)
        recordBytes += end - start
        return recordBytes >= targetBytes || end - firstRecordStart >= 4 * targetBytes ? .batchFull : nil
    }

    /// Looks at the bytes `scanned..<filled` of the buffer at `base`, until all are seen or a
    /// header or a full batch stops it (then `scanned` is just past that record's line end).
    mutating func scan(_ base: UnsafeMutablePointer<UInt8>) -> Stop {
        let end = filled, delimiter = self.delimiter
        var p = scanned
        // The first quote, CR and LF at or after p (`end` when none); recomputed when p passes
        // them.
        var nextQuote = -1, nextCR = -1, nextLF = -1
        defer { scanned = p }
        while p < end {
            let byte = base[p]
            if state == .rowNotBegun {
                if byte == Self.lf || byte == Self.cr {
                    // A blank line (not the LF of a CRLF) may close a batch that is mostly blank lines.
                    let blank = byte == Self.cr || !previousWasCR
                    if blank { line += 1 }
                    previousWasCR = byte == Self.cr
                    p += 1
                    if blank && spans.count > 0 && p - firstRecordStart >= 4 * targetBytes { return .batchFull }
                    continue
                }
                previousWasCR = false
                recordStart = p
                recordLine = line
                // The fast path: no quote before the line end (LF, CR or CRLF), so the record is
                // everything up to it.
                if nextQuote < p { nextQuote = Self.find(Self.quote, base, from: p, to: end) }
                if nextCR < p { nextCR = Self.find(Self.cr, base, from: p, to: end) }
                if nextLF < p { nextLF = Self.find(Self.lf, base, from: p, to: end) }
                let lineEnd = min(nextLF, nextCR)
                if lineEnd < end && nextQuote > lineEnd {
                    line += 1
                    if lineEnd == nextLF {
                        p = lineEnd + 1
                    } else if lineEnd + 1 < end && base[lineEnd + 1] == Self.lf {
                        p = lineEnd + 2
                    } else {
                        // A CR last in what is there: an LF after it will be taken as a CRLF's.
                        p = lineEnd + 1
                        previousWasCR = true
                    }
                    if let stop = complete(start: recordStart, end: lineEnd, line: recordLine) { return stop }
                    continue
                }
                state = byte == delimiter ? .fieldNotBegun : byte == Self.quote ? .quoted : .unquoted
                p += 1
                continue
            }
            // Inside a quoted field, jump to the next quote when no line end comes first.
            if state == .quoted && byte != Self.quote {
                if nextQuote < p { nextQuote = Self.find(Self.quote, base, from: p, to: end) }
                if nextCR < p { nextCR = Self.find(Self.cr, base, from: p, to: end) }
                if nextLF < p { nextLF = Self.find(Self.lf, base, from: p, to: end) }
                if min(nextCR, nextLF) >= nextQuote {
                    p = nextQuote
                    previousWasCR = false
                    continue
                }
            }
            // Inside a record, one byte at a time (libcsv's state machine).
            let isLineEnd = byte == Self.lf || byte == Self.cr
            if isLineEnd {
                if byte == Self.cr || !previousWasCR { line += 1 }
                previousWasCR = byte == Self.cr
            } else {
                previousWasCR = false
            }
            switch state {
            case .rowNotBegun:
                break
            case .fieldNotBegun, .unquoted, .quoteInQuoted:
                if isLineEnd {
                    state = .rowNotBegun
                    p += 1
                    if let stop = complete(start: recordStart, end: p - 1, line: recordLine) { return stop }
                    continue
                } else if byte == delimiter {
                    state = .fieldNotBegun
                } else if byte == Self.quote {
                    state = state == .unquoted ? .unquoted : .quoted
                } else {
                    // Text after a closing quote makes the record bad (the strict parser says
                    // so); the rest of the field is read as unquoted text, so the record ends at
                    // its line end and the rows after it are not swallowed.
                    state = .unquoted
                }
            case .quoted:
                if byte == Self.quote { state = .quoteInQuoted }
            }
            p += 1
        }
        return .needMore
    }

    /// The position of the first `byte` in `from..<to`, or `to`.
    @inline(__always)
    private static func find(_ byte: UInt8, _ base: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int {
        guard from < to, let found = memchr(base + from, Int32(byte), to - from) else { return to }
        return UnsafeMutableRawPointer(found) - UnsafeMutableRawPointer(base)
    }
}
