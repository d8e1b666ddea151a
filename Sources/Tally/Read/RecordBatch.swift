/// Whole CSV records of one input file, in input order: one byte buffer plus offsets.
///
/// A value that crosses threads (reader → workers); its bytes are shared, never copied. Record
/// `i` is 0-based within the batch; its bytes exclude the line end. Lines are 1-based physical
/// lines of the file; byte offsets are 0-based into the file's decompressed stream (a byte-order
/// mark counts).
public struct RecordBatch: Sendable {
    /// 0-based position of the file in the sorted input list.
    public let fileIndex: Int
    /// A stretch of the decompressed stream that holds the records, up to the end of the last
    /// one: the bytes as read, so line ends and blank lines between records are in it. Use
    /// `range(ofRecord:)` to find a record.
    public let bytes: BatchBytes
    /// Start and end (exclusive) in `bytes` of each record: 2 × count entries.
    let spans: UInt32Column
    /// Offset of `bytes[0]` in the decompressed stream.
    let streamOffset: Int64
    /// 1-based physical line where record 0 starts.
    let firstLine: Int
    /// The line of each record, when they are not `firstLine`, `firstLine + 1`, … (quoted line
    /// ends or blank lines in the batch); nil otherwise.
    let lines: [Int]?
    /// How far into the file (on disk) the reader was when it handed the batch out, 0 to 1: for
    /// estimates of what is to come (`RecordReader` sets it; 1 when unknown).
    public internal(set) var fileFraction = 1.0

    init(fileIndex: Int, bytes: BatchBytes, spans: UInt32Column,
         streamOffset: Int64, firstLine: Int, lines: [Int]?) {
        precondition(spans.count % 2 == 0 && (lines == nil || lines!.count * 2 == spans.count))
        self.fileIndex = fileIndex
        self.bytes = bytes
        self.spans = spans
        self.streamOffset = streamOffset
        self.firstLine = firstLine
        self.lines = lines
    }

    /// The number of records.
    public var count: Int { spans.count >> 1 }

    /// The range of record `index` in `bytes`.
    @inline(__always)
    public func range(ofRecord index: Int) -> Range<Int> {
        spans[2 &* index]..<spans[2 &* index &+ 1]
    }

    /// The 1-based physical line where record `index` starts.
    @inline(__always)
    public func line(ofRecord index: Int) -> Int {
        precondition(index >= 0 && index < count, "record out of range")
        return lines?[index] ?? firstLine + index
    }

    /// The 0-based offset of record `index`'s first byte in the file's decompressed stream.
    public func byteOffset(ofRecord index: Int) -> Int64 { streamOffset + Int64(spans[2 &* index]) }

    /// Where record `index` is, for messages and the quarantine table; `column` is 1-based.
    public func location(ofRecord index: Int, path: String, column: Int? = nil) -> InputLocation {
        InputLocation(path: path, line: line(ofRecord: index), column: column, byteOffset: byteOffset(ofRecord: index))
    }
}
