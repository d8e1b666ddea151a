/// Reads whole columns of a Parquet file written by `ParquetWriter` or by pyarrow.
///
/// Supports flat schemas; data pages v1 and v2; PLAIN, dictionary (RLE_DICTIONARY,
/// PLAIN_DICTIONARY) and DELTA_BINARY_PACKED values; UNCOMPRESSED and ZSTD. Physical types map
/// onto `ParquetColumnType` as: INT32 → int32, INT64 → int64, DOUBLE → double, FLOAT → double
/// (widened), BOOLEAN → int32 (0 or 1), BYTE_ARRAY → string when annotated STRING/ENUM/JSON (or
/// converted type UTF8/ENUM/JSON) else bytes, FIXED_LEN_BYTE_ARRAY → bytes. INT96 and nested
/// schemas are rejected. Meant for small-to-medium tables: a column is decoded whole into memory.
///
/// A corrupt or truncated file gives a `ParquetError` naming the problem. Not thread-safe.
public final class ParquetReader {
    private let input: FileInput
    private let leaves: [LeafColumn]
    private let decompressor: ZstdDecompressor
    /// File offset where the footer starts; column chunks must end before it.
    private let footerStart: Int

    /// The footer as stored.
    public let metadata: ParquetFileMetadata

    /// The flat schema's columns, in file order.
    public var columns: [ParquetColumn] { leaves.map(\.column) }

    /// The number of rows in the file.
    public var rowCount: Int { Int(metadata.numRows) }

    /// Opens `path` and reads its footer and schema.
    public init(path: String) throws {
        input = try FileInput(path: path)
        (metadata, footerStart) = try Self.readFooter(input)
        leaves = try Self.leaves(of: metadata, path: path)
        decompressor = try ZstdDecompressor()
        try checkRowGroups()
    }

    /// Reads only the footer of `path`, for inspecting files whose schema `init` rejects.
    public static func metadata(path: String) throws -> ParquetFileMetadata {
        try readFooter(try FileInput(path: path)).metadata
    }

    /// Reads every row of column `name`, all row groups concatenated; `validity` is nil when the
    /// column has no nulls.
    public func read(column name: String) throws -> ColumnBatch {
        guard let index = leaves.firstIndex(where: { $0.column.name == name }) else {
            throw ParquetError("\(input.path): no column '\(name)' (columns: \(columns.map(\.name).joined(separator: ", ")))")
        }
        let leaf = leaves[index]
        var output = ColumnAccumulator(leaf.column.type)
        for (groupIndex, group) in metadata.rowGroups.enumerated() {
            let context = "\(input.path): column '\(name)', row group \(groupIndex)"
            // pyarrow writes a zero-row table as one empty row group whose offsets are 0.
            if group.numRows == 0 { continue }
            let chunk = group.columns[index]
            guard chunk.filePath == nil else { throw ParquetError("\(context): column data in another file is not supported") }
            guard let meta = chunk.metaData else { throw ParquetError("\(context): column chunk lacks its metadata") }
            guard meta.type == leaf.physicalType else {
                throw ParquetError("\(context): chunk type \(meta.type) differs from the schema's \(leaf.physicalType)")
            }
            guard [.uncompressed, .zstd, .snappy].contains(meta.codec) else {
                throw ParquetError("\(context): unsupported codec \(meta.codec) in column \(name) (zstd, snappy or none are "
                                   + "read); rewrite with compression='zstd'")
            }
            guard meta.numValues == group.numRows else {
                throw ParquetError("\(context): chunk has \(meta.numValues) values but the row group has \(group.numRows) rows")
            }
            var start = Int(meta.dataPageOffset)
            if let dictionaryOffset = meta.dictionaryPageOffset, dictionaryOffset >= 4, dictionaryOffset < start {
                start = Int(dictionaryOffset)
            }
            let length = meta.totalCompressedSize
            guard start >= 4, length >= 0, length <= Int64(footerStart - start) else {
                throw ParquetError("\(context): chunk range \(start)+\(length) lies outside the data section 4..<\(footerStart)")
            }
            let bytes = try input.read(at: start, count: Int(length))
            var reader = ColumnChunkReader(leaf: leaf, codec: meta.codec, decompressor: decompressor, context: context)
            try reader.read(bytes, fileOffset: start, rows: Int(group.numRows), into: &output)
        }
        return output.batch()
    }

    // MARK: Footer and schema

    private static func readFooter(_ input: FileInput) throws -> (metadata: ParquetFileMetadata, footerStart: Int) {
        let path = input.path
        guard input.size >= 12 else { throw ParquetError("\(path): not a Parquet file (only \(input.size) bytes)") }
        guard try input.read(at: 0, count: 4) == Array("PAR1".utf8) else {
            throw ParquetError("\(path): not a Parquet file (no PAR1 magic at the start)")
        }
        let tail = try input.read(at: input.size - 8, count: 8)
        if tail[4...] == Array("PARE".utf8)[...] { throw ParquetError("\(path): encrypted Parquet files are not supported") }
        guard tail[4...] == Array("PAR1".utf8)[...] else {
            throw ParquetError("\(path): not a Parquet file or truncated (no PAR1 magic at the end)")
        }
        let length = Int(UInt32(littleEndianBytes: tail[0..<4]))
        guard length <= input.size - 12 else {
            throw ParquetError("\(path): footer length \(length) exceeds the \(input.size)-byte file")
        }
        let footerStart = input.size - 8 - length
        let footer = try input.read(at: footerStart, count: length)
        var reader = CompactReader(footer, baseOffset: footerStart)
        do {
            return (try ParquetFileMetadata(from: &reader), footerStart)
        } catch let error as ParquetError {
            throw ParquetError("\(path): corrupt footer: \(error.message)")
        }
    }

    private static func leaves(of metadata: ParquetFileMetadata, path: String) throws -> [LeafColumn] {
        guard let root = metadata.schema.first else { throw ParquetError("\(path): the schema is empty") }
        let fields = metadata.schema.dropFirst()
        if let group = fields.first(where: { ($0.numChildren ?? 0) > 0 || $0.type == nil }) {
            throw ParquetError("\(path): column '\(group.name)' is a group; nested schemas are not supported")
        }
        guard Int(root.numChildren ?? 0) == fields.count else {
            throw ParquetError("\(path): the root has \(root.numChildren ?? 0) children but the schema lists \(fields.count) columns")
        }
        return try fields.map { element in
            let physical = element.type!
            let repetition = element.repetition ?? .required
            guard repetition != .repeated else {
                throw ParquetError("\(path): column '\(element.name)' is repeated; nested schemas are not supported")
            }
            // Integers are read as signed and unscaled: an unsigned one past the signed range, or
            // a decimal's scale, would change its values without a word.
            if let kind = element.integerKindNotRead {
                throw ParquetError("\(path): column '\(element.name)' holds \(kind) integers, which are not supported; "
                                   + "cast it to a signed integer or a double")
            }
            let type: ParquetColumnType
            switch physical {
            case .boolean, .int32: type = .int32
            case .int64: type = .int64
            case .float, .double: type = .double
            case .byteArray: type = element.isText ? .string : .bytes
            case .fixedLenByteArray:
                guard let width = element.typeLength, width >= 0 else {
                    throw ParquetError("\(path): column '\(element.name)' is FIXED_LEN_BYTE_ARRAY without a valid type_length")
                }
                _ = width
                type = .bytes
            default:
                throw ParquetError("\(path): column '\(element.name)' has unsupported physical type \(physical)")
            }
            return LeafColumn(column: ParquetColumn(element.name, type, nullable: repetition == .optional),
                              physicalType: physical, typeLength: Int(element.typeLength ?? 0))
        }
    }

    private func checkRowGroups() throws {
        var total: Int64 = 0
        for (index, group) in metadata.rowGroups.enumerated() {
            guard group.columns.count == leaves.count else {
                throw ParquetError("\(input.path): row group \(index) has \(group.columns.count) column chunks for \(leaves.count) columns")
            }
            guard group.numRows >= 0 else { throw ParquetError("\(input.path): row group \(index) has a negative row count") }
            let (sum, overflow) = total.addingReportingOverflow(group.numRows)
            guard !overflow else { throw ParquetError("\(input.path): row counts overflow") }
            total = sum
        }
        guard total == metadata.numRows else {
            throw ParquetError("\(input.path): footer says \(metadata.numRows) rows but the row groups hold \(total)")
        }
    }
}

extension ParquetSchemaElement {
    /// "unsigned" or "decimal" for an integer leaf whose values are not its signed integers
    /// (converted types UINT_8…UINT_64 and DECIMAL, or the DECIMAL logical type).
    var integerKindNotRead: String? {
        guard type == .int32 || type == .int64 else { return nil }
        if (11...14).contains(convertedType ?? -1) { return "unsigned" }
        if convertedType == 5 || logicalType?.rawValue == 5 { return "decimal" }
        return nil
    }

    /// Whether a BYTE_ARRAY leaf holds UTF-8 text.
    var isText: Bool {
        if let logicalType { return [.string, .enum, .json].contains(logicalType) }
        return [0, 4, 19].contains(convertedType) // UTF8, ENUM, JSON
    }
}
