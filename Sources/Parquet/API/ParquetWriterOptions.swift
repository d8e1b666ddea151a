/// One key/value pair of a Parquet file's application metadata.
public struct ParquetKeyValue: Sendable, Hashable {
    public var key: String
    /// May be absent in files written by others.
    public var value: String?

    public init(_ key: String, _ value: String?) {
        self.key = key
        self.value = value
    }
}

/// How `ParquetWriter` lays out and compresses a file.
public struct ParquetWriterOptions: Sendable {
    /// The codec applied to every page.
    public enum Compression: Sendable, Equatable {
        case none
        /// ZSTD (codec 6) at a zstd compression level, usually 1 to 19.
        case zstd(level: Int)
    }

    public var compression: Compression = .zstd(level: 3)
    /// A row group is cut every `rowGroupRows` rows (at least 1).
    public var rowGroupRows: Int = 1_048_576
    /// Target uncompressed size of a data page in bytes; a page holds at least one row.
    public var pageBytes: Int = 1 << 20
    /// Written as the footer's `created_by`; Tally sets its own name and version.
    public var createdBy: String = "tally-parquet"
    /// Written as the footer's `key_value_metadata` when not empty.
    public var keyValueMetadata: [ParquetKeyValue] = []
    /// Whether `.automatic` string and bytes columns may be dictionary-encoded (a PLAIN
    /// dictionary page, then RLE_DICTIONARY data pages). Decided per column chunk: a chunk whose
    /// distinct values are more than half its values, or whose dictionary page would exceed
    /// `dictionaryPageBytes`, is written PLAIN throughout.
    public var dictionary = true
    /// The largest dictionary page body (PLAIN bytes: 4 + length per entry) a chunk may have.
    public var dictionaryPageBytes = 1 << 20
    /// Whether `.automatic` int32 and int64 columns may be DELTA_BINARY_PACKED: decided per
    /// column chunk, for chunks whose non-null values never decrease, or whose packed deltas take
    /// at most half the PLAIN bytes.
    public var deltaIntegers = true
    /// Encodings for particular columns, by name; columns not named are `.automatic`.
    public var columnEncodings: [String: ParquetColumnEncoding] = [:]
    /// Threads that encode and compress the column chunks of a row group, each with its own
    /// zstd context; 0 means one per online core. The file's bytes are the same for any value.
    public var encodingThreads = 0

    public init() {}
}

/// How the values of one column are encoded in its data pages.
public enum ParquetColumnEncoding: Sendable, Hashable, CustomStringConvertible {
    /// Chosen per column chunk under `ParquetWriterOptions.dictionary` and `.deltaIntegers`.
    case automatic
    /// PLAIN in every chunk.
    case plain
    /// RLE_DICTIONARY whenever the chunk's dictionary page fits `dictionaryPageBytes`, however
    /// many distinct values there are; PLAIN otherwise. String and bytes columns only.
    case dictionary
    /// DELTA_BINARY_PACKED in every chunk. Int32 and int64 columns only.
    case deltaBinaryPacked

    public var description: String {
        switch self {
        case .automatic: "automatic"
        case .plain: "plain"
        case .dictionary: "dictionary"
        case .deltaBinaryPacked: "deltaBinaryPacked"
        }
    }
}

/// What `ParquetWriter.close()` wrote.
public struct ParquetFileInfo: Sendable {
    /// Rows in the file.
    public var rows: Int
    /// Row groups in the file.
    public var rowGroups: Int
    /// File size in bytes.
    public var bytes: Int
    /// The footer as written.
    public var metadata: ParquetFileMetadata
}
