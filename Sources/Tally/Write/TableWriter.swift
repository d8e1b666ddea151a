import Parquet

/// Writes the run's Parquet tables, turning Parquet errors into located output errors.
enum TableWriter {
    /// Writes a whole table to `path`.
    static func write(path: String, columns: [ParquetColumn], batch: [ColumnBatch], options: ParquetWriterOptions) throws {
        let writer = try open(path: path, columns: columns, options: options, rows: batch.first?.count)
        try append(to: writer, batch)
        try close(writer)
    }

    /// Opens `path` for a table of `rows` rows, when known.
    static func open(path: String, columns: [ParquetColumn], options: ParquetWriterOptions, rows: Int? = nil) throws -> ParquetWriter {
        do {
            return try ParquetWriter(path: path, columns: columns, options: options, expectedRows: rows)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)), "\(error)")
        }
    }

    static func append(to writer: ParquetWriter, _ batch: [ColumnBatch]) throws {
        do {
            try writer.append(batch)
        } catch {
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(writer.path)), "\(error)")
        }
    }

    static func close(_ writer: ParquetWriter) throws {
        do {
            try writer.close()
        } catch {
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(writer.path)), "\(error)")
        }
    }
}
