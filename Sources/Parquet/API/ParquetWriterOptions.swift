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
    /// Written as the footer's `created_by`.
    public var createdBy: String = "tally version 0.1.0"
    /// Written as the footer's `key_value_metadata` when not empty.
    public var keyValueMetadata: [ParquetKeyValue] = []

    public init() {}
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
