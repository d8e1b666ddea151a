import Parquet
import Testing
@testable import Tally

/// Target and embedding tables given as CSV: read by key, with bad rows located.
@Suite struct KeyedValuesTests {
    @Test func aCSVTableIsReadByKey() throws {
        let folder = try TemporaryFolder()
        try folder.write("target.csv", bytes("item_id,logit\na,0.5\nb,-1.25\n"))
        let table = try KeyedValues.read(folder.path + "/target.csv", roles: [.item], columns: ["logit"], base: folder.path)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("a".utf8))) == 0.5)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("b".utf8))) == -1.25)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("c".utf8))) == nil)
    }

    /// A row with fewer or more fields than the header is named at its line and its first
    /// missing or extra field, as a log's is.
    @Test(arguments: [("b\n", "target.csv:3:2: error: [reduce] expected 2 fields, as the header has, found 1"),
                      ("b,1,2\n", "target.csv:3:3: error: [reduce] expected 2 fields, as the header has, found 3")])
    func aRowOfAnotherWidthIsAnErrorAtItsFirstMissingOrExtraField(row: String, message: String) throws {
        let folder = try TemporaryFolder()
        try folder.write("target.csv", bytes("item_id,logit\na,0.5\n" + row))
        let error = try #require(throws: TallyError.self) {
            try KeyedValues.read(folder.path + "/target.csv", roles: [.item], columns: ["logit"], base: folder.path)
        }
        #expect(error.kind == .badInput)
        #expect(error.description.hasSuffix(message), "\(error)")
    }

    static func writeTarget(_ path: String, bins: ColumnBatch, logits: [Double]) throws {
        let type: ParquetColumnType = if case .double = bins.values { .double } else { .int64 }
        let writer = try ParquetWriter(path: path, columns: [ParquetColumn("item_id", .string), ParquetColumn("time_bin", type),
                                                            ParquetColumn("logit", .double)])
        try writer.append([ColumnBatch(.byteArray(ByteArrayColumn(logits.indices.map { "i\($0)" }))), bins,
                           ColumnBatch(.double(logits))])
        _ = try writer.close()
    }

    /// Time bins are read exactly, INT64 ones too (through a double, 2^63 − 1 trapped); a double
    /// bin must be an integer that fits, and a value a finite number (+inf made the softmax
    /// uniform: the loss of no target at all, with exit 0).
    @Test func binsAreExactIntegersAndValuesFiniteNumbers() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/t.parquet"
        func read() throws -> KeyedValues {
            try KeyedValues.read(path, roles: [.item], timeBins: true, columns: ["logit"], base: folder.path)
        }
        try Self.writeTarget(path, bins: ColumnBatch(.int64([.max, .min, (1 << 53) + 1])), logits: [1, 2, 3])
        let table = try read()
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("i2".utf8), bin: (1 << 53) + 1)) == 3)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("i0".utf8), bin: .max)) == 1)
        #expect(KeyShape.storedBin(.max) == nil && KeyShape.storedBin(.min) == nil)

        for (bins, logits, message) in [(ColumnBatch(.double([.infinity])), [1.0], "time_bin must be an integer, row 1"),
                                        (ColumnBatch(.double([1.5])), [1.0], "time_bin must be an integer, row 1"),
                                        (ColumnBatch(.double([9.3e18])), [1.0], "time_bin must be an integer, row 1"),
                                        (ColumnBatch(.int64([1, 2])), [0, .infinity],
                                         "value inf in column 'logit', row 2: not a finite number"),
                                        (ColumnBatch(.int64([1])), [.nan], "value nan in column 'logit', row 1: not a finite number")] {
            try Self.writeTarget(path, bins: bins, logits: logits)
            let error = try #require(throws: TallyError.self) { try read() }
            #expect(error.kind == .badInput && error.message == message, "\(error)")
        }
    }

    /// An empty file is no empty table: a `.parquet` name is read as Parquet (a damaged one is
    /// an error), and a CSV table needs its header.
    @Test(arguments: ["t.parquet", "t.csv"])
    func anEmptyTableFileIsAnError(name: String) throws {
        let folder = try TemporaryFolder()
        try folder.write(name, [])
        let error = try #require(throws: TallyError.self) {
            try KeyedValues.read(folder.path + "/" + name, roles: [.item], columns: ["logit"], base: folder.path)
        }
        #expect(error.kind == .badInput)
        #expect(error.message.contains(name.hasSuffix(".parquet") ? "not a Parquet file" : "no header row"), "\(error)")
    }
}
