import Parquet

/// Writes `event_grads.parquet` in input order: file, line, key indices, w_i, ∂L/∂b_i.
final class EventGradientSink: OrderedSink {
    private let writer: ParquetWriter
    private let shape: KeyShape
    private(set) var rows = 0

    init(path: String, shape: KeyShape, options: ParquetWriterOptions) throws {
        self.shape = shape
        var columns = [ParquetColumn("file", .string), ParquetColumn("line", .int64)]
        columns += shape.roles.map { ParquetColumn($0.rawValue, .int32) }
        if shape.hasTime { columns.append(ParquetColumn("time_bin", .int64)) }
        columns += [ParquetColumn("weight", .double), ParquetColumn("grad", .double)]
        writer = try TableWriter.open(path: path, columns: columns, options: options)
    }

    func add(_ output: EventGradientRows, of file: InputFile) throws {
        var files = ByteArrayColumn()
        for _ in output.lines { files.append(file.relativePath) }
        var batch = [ColumnBatch(.byteArray(files)), ColumnBatch(.int64(output.lines))]
        batch += output.indices.map { ColumnBatch(.int32($0)) }
        if shape.hasTime { batch.append(ColumnBatch(.int64(output.bins))) }
        batch += [ColumnBatch(.double(output.weights)), ColumnBatch(.double(output.gradients))]
        try TableWriter.append(to: writer, batch)
        rows += output.lines.count
    }

    func endFile(_ file: InputFile, index: Int) {}

    func close() throws { try TableWriter.close(writer) }
}
