/// Whole CSV records of one input file, in input order: one byte buffer plus offsets.
///
/// A value that crosses threads (reader → workers). Record `i` is 0-based within the batch;
/// its bytes exclude the line end. Lines are 1-based physical lines of the file; byte offsets
/// are 0-based into the file's decompressed stream (a byte-order mark counts).
public struct RecordBatch: Sendable {
    /// 0-based position of the file in the sorted input list.
    public let fileIndex: Int
    /// 0-based position of this batch among the file's batches.
    public let index: Int
    /// Whether no batch of this file follows. Every file yields at least one batch, so the
    /// last one (possibly empty) says where the file ends.
    public internal(set) var isLastInFile: Bool
    /// The records' bytes, one after the other, without line ends.
    public let bytes: [UInt8]
    /// Start of each record in `bytes`, plus `bytes.count` at the end (count + 1 entries).
    let recordStarts: [Int]
    /// 1-based physical line where each record starts.
    let lines: [Int]
    /// 0-based offset of each record's first byte in the decompressed stream.
    let byteOffsets: [Int64]

    init(fileIndex: Int, index: Int, isLastInFile: Bool = false, bytes: [UInt8],
         recordStarts: [Int], lines: [Int], byteOffsets: [Int64]) {
        precondition(recordStarts.count == lines.count + 1 && lines.count == byteOffsets.count)
        self.fileIndex = fileIndex
        self.index = index
        self.isLastInFile = isLastInFile
        self.bytes = bytes
        self.recordStarts = recordStarts
        self.lines = lines
        self.byteOffsets = byteOffsets
    }

    /// The number of records.
    public var count: Int { lines.count }

    /// The range of record `index` in `bytes`.
    public func range(ofRecord index: Int) -> Range<Int> {
        recordStarts[index]..<recordStarts[index + 1]
    }

    /// The 1-based physical line where record `index` starts.
    public func line(ofRecord index: Int) -> Int { lines[index] }

    /// The 0-based offset of record `index`'s first byte in the file's decompressed stream.
    public func byteOffset(ofRecord index: Int) -> Int64 { byteOffsets[index] }

    /// Calls `body` with the bytes of record `index` (valid only during the call).
    public func withRecord<Result>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let range = self.range(ofRecord: index)
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// Where record `index` is, for messages and the quarantine table; `column` is 1-based.
    public func location(ofRecord index: Int, path: String, column: Int? = nil) -> InputLocation {
        InputLocation(path: path, line: lines[index], column: column, byteOffset: byteOffsets[index])
    }
}
