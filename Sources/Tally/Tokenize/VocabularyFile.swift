import Foundation
import Parquet

/// Reads and writes vocabulary tables: `index` (INT32), `id` (STRING, null for the OOV
/// bucket), `count` (INT64), one row per index, sorted by index.
enum VocabularyFile {
    static let columns = [
        ParquetColumn("index", .int32),
        ParquetColumn("id", .string, nullable: true),
        ParquetColumn("count", .int64),
    ]

    /// Reads the vocabulary at `path`, checking that its indices are 0, 1, 2, … and that it has
    /// an OOV bucket (a null id at index 0) exactly when `oov` is `bucket`. A missing file is an
    /// empty vocabulary.
    static func read(path: String, displayPath: String, oov: Pipeline.VocabularySettings.OOV) throws -> LoadedVocabulary {
        guard FileManager.default.fileExists(atPath: path) else { return LoadedVocabulary() }
        let location = InputLocation(path: displayPath)
        func bad(_ message: String) -> TallyError {
            TallyError(.badInput, stage: .tokenize, at: location, message)
        }
        let reader: ParquetReader
        let indexColumn: ColumnBatch, idColumn: ColumnBatch
        do {
            reader = try ParquetReader(path: path)
            indexColumn = try reader.read(column: "index")
            idColumn = try reader.read(column: "id")
        } catch let error as ParquetError {
            throw bad("cannot read the vocabulary: \(error)")
        }
        guard case .int32(let indices) = indexColumn.values else { throw bad("column 'index' is not INT32") }
        if let row = indexColumn.validity?.firstIndex(of: false) { throw bad("row \(row) has a null index") }
        guard case .byteArray(let ids) = idColumn.values else { throw bad("column 'id' is not a string column") }

        // Tally writes the bucket whenever oov is 'bucket', so a table without rows under it is
        // a damaged or truncated file, not an empty vocabulary.
        if indices.isEmpty && oov == .bucket {
            throw bad("oov is 'bucket' but the vocabulary has no rows, not even the OOV bucket (a null id at index 0)")
        }
        var vocabulary = LoadedVocabulary()
        vocabulary.entryCount = indices.count
        var seen = IdTable(capacity: indices.count)
        for row in 0..<indices.count {
            guard indices[row] == Int32(row) else {
                throw bad("indices must be 0, 1, 2, … in order; row \(row) has index \(indices[row])")
            }
            let isNull = idColumn.validity.map { !$0[row] } ?? false
            if isNull {
                guard row == 0, oov == .bucket else {
                    throw bad(row == 0
                        ? "the vocabulary has an OOV bucket (a null id at index 0) but oov is '\(oov.rawValue)'"
                        : "only index 0 may have a null id (the OOV bucket); row \(row) has one")
                }
                continue
            }
            if row == 0 && oov == .bucket {
                throw bad("oov is 'bucket' but index 0 is not the OOV bucket (a null id)")
            }
            let (id, isNew) = ids[row].withUnsafeBytes { seen.insert($0) }
            guard isNew else {
                throw bad("id '\(ids.string(at: row))' appears twice, at indices \(vocabulary.indices[Int(id)]) and \(row)")
            }
            vocabulary.ids.append(Array(ids[row]))
            vocabulary.indices.append(Int32(row))
        }
        return vocabulary
    }

    /// The table's columns for `entries`.
    static func batch(_ entries: VocabularyEntries) -> [ColumnBatch] {
        let indices = (0..<Int32(entries.count)).map { $0 }
        return [ColumnBatch(.int32(indices)), entries.idColumn(indices), ColumnBatch(.int64(entries.counts))]
    }
}

extension VocabularyEntries {
    /// The ids of `indices`, as a nullable string column (null: the OOV bucket) that indexes
    /// the vocabulary's ids: the Parquet writer takes its dictionary pages straight from them.
    func idColumn(_ indices: some Collection<Int32>) -> ColumnBatch {
        let column = IndexedByteArrays(values: ids, indices: Array(indices))
        guard hasBucket, column.indices.contains(0) else { return ColumnBatch(.indexed(column)) }
        return ColumnBatch(.indexed(column), validity: column.indices.map { $0 != 0 })
    }
}
