import Parquet

/// Writes the tables of a reduced run into the output folder (DESIGN §4).
struct Outputs {
    let folder: OutputFolder
    let options: ParquetWriterOptions
    /// Rows written per file name, in the order written.
    private(set) var rows: [(file: String, rows: Int)] = []

    init(folder: OutputFolder, pipeline: Pipeline) {
        self.folder = folder
        var options = ParquetWriterOptions()
        options.compression = pipeline.output.compression == .zstd ? .zstd(level: pipeline.output.zstdLevel) : .none
        options.rowGroupRows = pipeline.output.rowGroupRows
        options.createdBy = "tally version \(tallyVersion)"
        self.options = options
    }

    mutating func record(_ file: String, rows count: Int) { rows.append((file, count)) }

    /// `counts.parquet`: key indices (and the time bin), ids, count, value, grad and one
    /// `d_value_d_<parameter>` per differentiated parameter; sorted by key.
    private mutating func writeCounts(_ reduction: Reduction) throws {
        let roles = reduction.shape.roles
        var columns: [ParquetColumn] = roles.map { ParquetColumn($0.rawValue, .int32) }
        if reduction.shape.hasTime { columns.append(ParquetColumn("time_bin", .int64)) }
        columns += roles.map { ParquetColumn("\($0.rawValue)_id", .string, nullable: true) }
        columns += [ParquetColumn("count", .int64), ParquetColumn("value", .double)]
        // With embedding bags the loss is on the bags, not on the counts: no `grad`.
        if reduction.bags == nil { columns.append(ParquetColumn("grad", .double)) }
        columns += reduction.derivatives.map { ParquetColumn("d_value_d_\($0.parameter.rawValue)", .double) }
        // The reduction's own arrays, whole: the writer copies each row group's rows into
        // buffers it reuses (no fresh memory per row group), and takes a table of one row group
        // (B1's, B3's) as it is, with no copy. The id columns are indices into the vocabularies,
        // with, for a role with an OOV bucket, a validity flag per row (a byte, against the
        // reduction's 30 or more).
        var batch: [ColumnBatch] = reduction.columns.map { ColumnBatch(.int32($0)) }
        if reduction.shape.hasTime { batch.append(ColumnBatch(.int64(reduction.bins))) }
        batch += roles.indices.map { part in reduction.partEntries[part].idColumn(reduction.columns[part]) }
        batch += [ColumnBatch(.int64(reduction.counts)), ColumnBatch(.double(reduction.values))]
        if reduction.bags == nil { batch.append(ColumnBatch(.double(reduction.gradient))) }
        batch += reduction.derivatives.map { ColumnBatch(.double($0.values)) }
        try write("counts.parquet", columns: columns, batch: batch, rows: reduction.counts.count)
    }

    /// `counts.parquet`, then `vocab_<role>.parquet` for every tokenized role; the vocabularies
    /// are written on another thread meanwhile. Each file's encoding leaves a core idle at times
    /// (a row group's last chunks, the file's end), which the other fills. The files are the same
    /// bytes as written one after the other, and recorded in that order.
    mutating func writeCountsAndVocabularies(_ reduction: Reduction) throws {
        let names = reduction.vocabularies.map { "vocab_\($0.role.rawValue).parquet" }
        let paths = names.map(folder.file), vocabularies = reduction.vocabularies.map(\.entries), options = options
        _ = try concurrently({ try writeCounts(reduction) }, {
            for (path, entries) in zip(paths, vocabularies) {
                try TableWriter.write(path: path, columns: VocabularyFile.columns, batch: VocabularyFile.batch(entries), options: options)
            }
        })
        for (name, entries) in zip(names, vocabularies) { record(name, rows: entries.count) }
    }

    /// `target_grad.parquet`: id columns (and the time bin) and ∂L/∂θ, sorted by id; when the
    /// loss has one.
    mutating func writeTargetGradient(_ reduction: Reduction) throws {
        guard let target = reduction.targetGradient else { return }
        let roles = reduction.shape.roles
        var columns = roles.map { ParquetColumn("\($0.rawValue)_id", .string, nullable: true) }
        if reduction.shape.hasTime { columns.append(ParquetColumn("time_bin", .int64)) }
        columns.append(ParquetColumn("grad", .double))
        try writeSliced("target_grad.parquet", columns: columns, rows: target.count, sliceRows: 1 << 16) { rows in
            // A slice of observed keys only gives its ids as indices into the vocabularies, as
            // counts.parquet does (the same bytes as the ids copied out); a target's own keys
            // have ids of their own.
            let observed = rows.compactMap { i -> Int? in if case .observed(let row) = target.key(i) { row } else { nil } }
            var batch = roles.indices.map { part in
                if observed.count == rows.count {
                    return reduction.partEntries[part].idColumn(observed.lazy.map { reduction.columns[part][$0] })
                }
                return Self.strings(rows.lazy.map { i -> ArraySlice<UInt8>? in
                    switch target.key(i) {
                    case .observed(let row): reduction.id(part: part, row: row)
                    case .targetOnly(let id): id.id(of: roles[part])
                    }
                })
            }
            if reduction.shape.hasTime {
                batch.append(ColumnBatch(.int64(rows.map { i in
                    switch target.key(i) {
                    case .observed(let row): reduction.bins[row]
                    case .targetOnly(let id): id.bin!
                    }
                })))
            }
            batch.append(ColumnBatch(.double(Array(target.gradient[rows]))))
            return batch
        }
    }

    /// `bags.parquet` (user, user_id, e0…, g0…) and, when asked, `embedding_grad.parquet`
    /// (item, item_id, g0…).
    mutating func writeBags(_ reduction: Reduction, embeddingGradient: Bool) throws {
        guard let bags = reduction.bags else { return }
        let d = bags.dim
        func vectors(_ prefix: String, _ values: [Double]) -> ([ParquetColumn], [ColumnBatch]) {
            ((0..<d).map { ParquetColumn("\(prefix)\($0)", .double) },
             (0..<d).map { c in ColumnBatch(.double(stride(from: c, to: values.count, by: d).map { values[$0] })) })
        }
        let (bagColumns, bagValues) = vectors("e", bags.bags)
        let (gradientColumns, gradientValues) = vectors("g", bags.bagGradients)
        try write("bags.parquet",
                  columns: [ParquetColumn("user", .int32), ParquetColumn("user_id", .string, nullable: true)] + bagColumns + gradientColumns,
                  batch: [ColumnBatch(.int32(bags.groups)), reduction.entries(of: .user).idColumn(bags.groups)] + bagValues + gradientValues,
                  rows: bags.groups.count)
        guard embeddingGradient else { return }
        let items = reduction.entries(of: .item)
        let (itemColumns, itemValues) = vectors("g", bags.itemGradients)
        try write("embedding_grad.parquet",
                  columns: [ParquetColumn("item", .int32), ParquetColumn("item_id", .string, nullable: true)] + itemColumns,
                  batch: [ColumnBatch(.int32(bags.items)), items.idColumn(bags.items)] + itemValues,
                  rows: bags.items.count)
    }

    private mutating func write(_ name: String, columns: [ParquetColumn], batch: [ColumnBatch], rows count: Int) throws {
        try TableWriter.write(path: folder.file(name), columns: columns, batch: batch, options: options)
        record(name, rows: count)
    }

    /// Writes a table of `count` rows `sliceRows` at a time, each slice's columns made by `slice`:
    /// a table as long as the run's keys never has its id strings built whole. The bytes are the
    /// same as writing it at once (row groups are encoded when full).
    private mutating func writeSliced(_ name: String, columns: [ParquetColumn], rows count: Int, sliceRows: Int,
                                      slice: (Range<Int>) -> [ColumnBatch]) throws {
        let writer = try TableWriter.open(path: folder.file(name), columns: columns, options: options, rows: count)
        for start in stride(from: 0, to: count, by: sliceRows) {
            try TableWriter.append(to: writer, slice(start..<min(count, start + sliceRows)))
        }
        try TableWriter.close(writer)
        record(name, rows: count)
    }

    /// A nullable string column.
    static func strings(_ values: some Collection<ArraySlice<UInt8>?>) -> ColumnBatch {
        var column = ByteArrayColumn()
        var validity = [Bool]()
        validity.reserveCapacity(values.count)
        for value in values {
            column.append(value ?? [])
            validity.append(value != nil)
        }
        return ColumnBatch(.byteArray(column), validity: validity.contains(false) ? validity : nil)
    }

}
