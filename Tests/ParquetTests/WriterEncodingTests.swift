import Foundation
import Testing
@testable import Parquet

/// The writer's choice of dictionary, DELTA_BINARY_PACKED or PLAIN per column chunk.
@Suite struct WriterEncodingTests {
    /// Writes one row group and returns the file bytes and its chunks' metadata.
    static func write(_ columns: [ParquetColumn], _ batch: [ColumnBatch], options: ParquetWriterOptions = testOptions())
        throws -> (bytes: [UInt8], chunks: [ParquetColumnMetadata]) {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("e.parquet").path
        let info = try writeFile(path, columns, [batch], options: options)
        let reader = try ParquetReader(path: path)
        for (column, expected) in zip(columns, batch) {
            #expect(try reader.read(column: column.name).sameRows(as: expected), "column \(column.name) reads back")
        }
        return ([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))),
                info.metadata.rowGroups.first?.columns.compactMap(\.metaData) ?? [])
    }

    @Test func aSmallDeltaChunkAndDictionaryChunkAreTheseBytes() throws {
        let (bytes, chunks) = try Self.write([ParquetColumn("x", .int32), ParquetColumn("s", .string)],
                                             [ColumnBatch(.int32([1, 2, 3, 4])),
                                              ColumnBatch(.byteArray(ByteArrayColumn(["b", "a", "b", "a"])))])
        let x = hex("15 00 15 14 15 14 2C 15 08 15 0A 15 06 15 06 00 00")  // DATA_PAGE, 10 bytes, 4 values, DELTA_BINARY_PACKED
            + hex("80 01 04 04 02 02 00 00 00 00")                           // 128, 4, 4 values, first 1; min delta 1, widths 0
        let dictionary = hex("15 04 15 14 15 14 4C 15 04 15 00 00 00")      // DICTIONARY_PAGE, 10 bytes, 2 entries, PLAIN
            + hex("01 00 00 00 62 01 00 00 00 61")                           // "b", "a"
        let data = hex("15 00 15 06 15 06 2C 15 08 15 10 15 06 15 06 00 00") // DATA_PAGE, 3 bytes, 4 values, RLE_DICTIONARY
            + hex("01 03 0A")                                                // bit width 1; one group: 0 1 0 1
        #expect(Array(bytes[4..<74]) == x + dictionary + data)

        #expect(chunks[0].encodings == [.deltaBinaryPacked])
        #expect(chunks[0].dataPageOffset == 4)
        #expect(chunks[0].dictionaryPageOffset == nil)
        #expect(chunks[0].encodingStats == nil)
        #expect(chunks[1].encodings == [.plain, .rleDictionary])
        #expect(chunks[1].dictionaryPageOffset == 31)
        #expect(chunks[1].dataPageOffset == 54)
        #expect(chunks[1].totalCompressedSize == 43)
        #expect(chunks[1].encodingStats == [ParquetPageEncodingStats(pageType: 2, encoding: .plain, count: 1),
                                            ParquetPageEncodingStats(pageType: 0, encoding: .rleDictionary, count: 1)])
        // Statistics come from the values: min "a" even though "b" is entry 0.
        #expect(chunks[1].minValue == .bytes(Array("a".utf8)))
        #expect(chunks[1].maxValue == .bytes(Array("b".utf8)))
    }

    @Test func eachChunkGetsTheEncodingThatPays() throws {
        var random = SeededGenerator(seed: 5)
        let rows = 4000
        let sorted = (0..<rows).map { Int64($0 / 3) }
        let nearlySorted = (0..<rows).map { Int32($0 * 10 + Int.random(in: -3...3, using: &random)) }
        let wide = (0..<rows).map { _ in Int64.random(in: .min ... .max, using: &random) }
        let repeated = ByteArrayColumn((0..<rows).map { _ in Self.words.randomElement(using: &random)! })
        let unique = ByteArrayColumn((0..<rows).map { "id-\($0)" })
        let sortedRuns = ByteArrayColumn((0..<rows).map { "user-\($0 / 10)" })
        let columns = [ParquetColumn("sorted", .int64), ParquetColumn("nearly", .int32), ParquetColumn("wide", .int64),
                       ParquetColumn("repeated", .string), ParquetColumn("unique", .string),
                       ParquetColumn("sorted_runs", .string, nullable: true)]
        let batch = [ColumnBatch(.int64(sorted)), ColumnBatch(.int32(nearlySorted)), ColumnBatch(.int64(wide)),
                     ColumnBatch(.byteArray(repeated)), ColumnBatch(.byteArray(unique)),
                     ColumnBatch(.byteArray(sortedRuns), validity: (0..<rows).map { $0 % 5 != 0 })]
        for compression in [ParquetWriterOptions.Compression.none, .zstd(level: 3)] {
            let chunks = try Self.write(columns, batch, options: testOptions(compression)).chunks
            #expect(chunks.map(\.encodings) == [[.deltaBinaryPacked], [.deltaBinaryPacked], [.plain],
                                                [.plain, .rleDictionary], [.plain], [.plain, .rle, .rleDictionary]],
                    "\(compression)")
            let plain = try Self.write(columns, batch, options: plainOnly(testOptions(compression))).chunks
            #expect(plain.allSatisfy { !$0.encodings.contains(.rleDictionary) && !$0.encodings.contains(.deltaBinaryPacked) })
            for (chosen, reference) in zip(chunks, plain) {
                #expect(chosen.statistics == reference.statistics)
                // Under zstd, sorted runs are smaller as PLAIN, but their dictionary is chosen for
                // its speed: within twice the size.
                let runs = chosen.pathInSchema == ["sorted_runs"] && compression != .none
                let bound = runs ? 2 * reference.totalCompressedSize : reference.totalCompressedSize
                #expect(chosen.totalCompressedSize <= bound, "\(chosen.pathInSchema) \(compression)")
            }
        }
    }

    @Test func columnEncodingsForceAnEncodingPerColumn() throws {
        var options = testOptions()
        options.columnEncodings = ["wide": .deltaBinaryPacked, "unique": .dictionary, "sorted": .plain]
        let wide: [Int32] = [.max, .min, 0, .min, .max, -1, 1, 7]
        let chunks = try Self.write(
            [ParquetColumn("wide", .int32), ParquetColumn("unique", .bytes), ParquetColumn("sorted", .int64)],
            [ColumnBatch(.int32(wide)), ColumnBatch(.byteArray(ByteArrayColumn((0..<8).map { "u\($0)" }))),
             ColumnBatch(.int64(Array(0..<8)))], options: options).chunks
        #expect(chunks.map(\.encodings) == [[.deltaBinaryPacked], [.plain, .rleDictionary], [.plain]])
    }

    @Test func aDictionaryOverThePageLimitFallsBackToPlainForTheWholeChunk() throws {
        var options = testOptions()
        options.dictionaryPageBytes = 100
        options.columnEncodings = ["forced": .dictionary]
        let long = ByteArrayColumn((0..<40).map { String(repeating: Array("xyz")[$0 % 3], count: 30) + "\($0 % 4)" })
        let chunks = try Self.write([ParquetColumn("auto", .string), ParquetColumn("forced", .string)],
                                    [ColumnBatch(.byteArray(long)), ColumnBatch(.byteArray(long))], options: options).chunks
        #expect(chunks.map(\.encodings) == [[.plain], [.plain]])
        #expect(chunks.allSatisfy { $0.dictionaryPageOffset == nil })
    }

    @Test func singleValueAllNullAndEmptyStringChunks() throws {
        let chunks = try Self.write(
            [ParquetColumn("one", .string), ParquetColumn("empty", .string, nullable: true),
             ParquetColumn("none", .string, nullable: true), ParquetColumn("ints", .int64, nullable: true)],
            [ColumnBatch(.byteArray(ByteArrayColumn(Array(repeating: "only", count: 50)))),
             ColumnBatch(.byteArray(ByteArrayColumn(Array(repeating: "", count: 50))), validity: (0..<50).map { $0 % 3 != 0 }),
             ColumnBatch(.byteArray(ByteArrayColumn(Array(repeating: "", count: 50))), validity: Array(repeating: false, count: 50)),
             ColumnBatch(.int64(Array(repeating: 0, count: 50)), validity: Array(repeating: false, count: 50))]).chunks
        #expect(chunks.map(\.encodings) == [[.plain, .rleDictionary], [.plain, .rle, .rleDictionary], [.plain, .rle], [.plain, .rle]])
    }

    @Test func badColumnEncodingsAreRejected() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("bad.parquet").path
        let columns = [ParquetColumn("a", .int32), ParquetColumn("s", .string), ParquetColumn("d", .double)]
        for (encodings, message) in [(["nope": ParquetColumnEncoding.plain], "columnEncodings names 'nope', which is not a column"),
                                     (["a": .dictionary], "column 'a' is int32 and cannot be written dictionary"),
                                     (["s": .deltaBinaryPacked], "column 's' is string and cannot be written deltaBinaryPacked"),
                                     (["d": .deltaBinaryPacked], "column 'd' is double and cannot be written deltaBinaryPacked")] {
            var options = testOptions()
            options.columnEncodings = encodings
            let error = try #require(throws: ParquetError.self) { try ParquetWriter(path: path, columns: columns, options: options) }
            #expect(error.message == "\(path): \(message)")
        }
    }

    /// Nor on the row count the caller expects (exact, too few, too many), which only sizes
    /// the buffers.
    @Test func outputBytesDependOnlyOnTheRowsNotOnBatchSizesOrThreads() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var table = TableFixture.encodings()
        var files: [[UInt8]] = []
        let runs: [(batchRows: Int, threads: Int, expectedRows: Int?)] = [
            (1000, 1, nil), (777, 2, nil), (5000, 0, nil), (777, 7, nil), (123, 1, nil),
            (777, 2, table.rowCount), (500, 3, 2500), (777, 2, 100_000), (7, 2, 1),
        ]
        for (index, run) in runs.enumerated() {
            table.name = "run\(index)"
            table.options.encodingThreads = run.threads
            try table.write(to: directory, batchRows: run.batchRows, expectedRows: run.expectedRows)
            files.append([UInt8](try Data(contentsOf: directory.appendingPathComponent("run\(index).parquet"))))
        }
        #expect(files.allSatisfy { $0 == files[0] })
    }

    /// Indexed byte arrays (a shared list of values and an index per row) take the dictionary
    /// from their indices, yet the file is the one their copied-out values give, whatever the
    /// encoding chosen, the nulls, the row groups and the batches, mixed with other batches.
    @Test func indexedByteArraysWriteTheBytesTheirValuesWould() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var random = SeededGenerator(seed: 11)
        let values = ByteArrayColumn(Self.words + (0..<300).map { "id-\($0)" })
        let other = ByteArrayColumn(values.offsets.indices.dropLast().reversed().map { values.string(at: $0) })
        let rows = 3000
        let shapes: [(String, [Int32])] = [
            ("runs", (0..<rows).map { Int32($0 / 10 % values.count) }),
            ("repeated", (0..<rows).map { _ in Int32.random(in: 0..<7, using: &random) }),
            ("spread", (0..<rows).map { _ in Int32.random(in: 0..<Int32(values.count), using: &random) }),
        ]
        let columns = [ParquetColumn("s", .string, nullable: true), ParquetColumn("b", .bytes)]
        var options = [testOptions(), testOptions(.zstd(level: 3), rowGroupRows: 700, pageBytes: 512), plainOnly(testOptions())]
        options.append({ var small = testOptions(rowGroupRows: 1000); small.dictionaryPageBytes = 200; return small }())
        for (shape, indices) in shapes {
            let validity = (0..<rows).map { $0 % 7 != 3 }
            let expected = [ColumnBatch(.byteArray(IndexedByteArrays(values: values, indices: indices).materialized()), validity: validity),
                            ColumnBatch(.byteArray(IndexedByteArrays(values: values, indices: indices).materialized()))]
            for (index, option) in options.enumerated() {
                let reference = directory.appendingPathComponent("\(shape)-\(index)-reference.parquet").path
                try writeFile(reference, columns, [expected], options: option)
                // Batches of 1000 rows. Column s: indexed, then indexed into the same values in
                // another order, then into an equal copy of the first values. Column b: indexed,
                // copied out, indexed again.
                var batches: [[ColumnBatch]] = []
                for start in stride(from: 0, to: rows, by: 1000) {
                    let part = Array(indices[start..<start + 1000])
                    let s: IndexedByteArrays = switch start / 1000 {
                    case 0: IndexedByteArrays(values: values, indices: part)
                    case 1: IndexedByteArrays(values: other, indices: part.map { Int32(values.count - 1) - $0 })
                    default: IndexedByteArrays(values: ByteArrayColumn(Self.words + (0..<300).map { "id-\($0)" }), indices: part)
                    }
                    let b = IndexedByteArrays(values: values, indices: part)
                    batches.append([ColumnBatch(.indexed(s), validity: Array(validity[start..<start + 1000])),
                                    ColumnBatch(start == 1000 ? .byteArray(b.materialized()) : .indexed(b))])
                }
                let path = directory.appendingPathComponent("\(shape)-\(index).parquet").path
                try writeFile(path, columns, batches, options: option)
                #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(contentsOf: URL(fileURLWithPath: reference)),
                        "\(shape), options \(index)")
            }
        }
    }

    /// A buffer keeps indices only while its batches' values are equal, and copies the rows out
    /// (in order) from the first batch that indexes other values or brings copied bytes.
    @Test func aBufferStaysIndexedWhileItsBatchesShareTheirValues() {
        let values = ByteArrayColumn(["a", "b", "c"])
        let equal = ByteArrayColumn(["a", "b", "c"])
        var buffer = ColumnBuffer(ParquetColumn("s", .string))
        buffer.append(ColumnBatch(.indexed(IndexedByteArrays(values: values, indices: [2, 0, 1]))), rows: 0..<2)
        buffer.append(ColumnBatch(.indexed(IndexedByteArrays(values: equal, indices: [1]))), rows: 0..<1)
        #expect(buffer.values == .indexed(IndexedByteArrays(values: values, indices: [2, 0, 1])))
        buffer.append(ColumnBatch(.indexed(IndexedByteArrays(values: ByteArrayColumn(["c", "b"]), indices: [0]))), rows: 0..<1)
        #expect(buffer.values == .byteArray(ByteArrayColumn(["c", "a", "b", "c"])))
        buffer.removeAll()
        buffer.append(ColumnBatch(.indexed(IndexedByteArrays(values: values, indices: [1]))), rows: 0..<1)
        buffer.append(ColumnBatch(.byteArray(ByteArrayColumn(["z"]))), rows: 0..<1)
        #expect(buffer.values == .byteArray(ByteArrayColumn(["b", "z"])))
    }

    /// The pool hands chunks on in column order whatever the threads, each the bytes one thread
    /// alone makes; when a hand-on fails, it rethrows that error and hands on nothing after it.
    @Test func encoderPoolHandsChunksOnInOrderAndStopsAtTheFirstFailure() throws {
        var random = SeededGenerator(seed: 5)
        // Chunks of very different sizes, so that threads finish out of order.
        let buffers = (0..<9).map { column -> ColumnBuffer in
            var buffer = ColumnBuffer(ParquetColumn("c\(column)", .double))
            let rows = column % 3 == 0 ? 40_000 : 10
            buffer.append(ColumnBatch(.double((0..<rows).map { _ in Double.random(in: 0..<1, using: &random) })), rows: 0..<rows)
            return buffer
        }
        var options = testOptions(.zstd(level: 3))
        options.encodingThreads = 1
        var expected: [[UInt8]] = []
        try ChunkEncoderPool(options: options).encode(buffers) { expected.append($0.bytes) }
        struct Full: Error {}
        for threads in [2, 3, 8, 16] {
            options.encodingThreads = threads
            let pool = try ChunkEncoderPool(options: options)
            var written: [[UInt8]] = []
            try pool.encode(buffers) { written.append($0.bytes) }
            #expect(written.elementsEqual(expected), "\(threads) threads")
            for failing in [0, 4, 8] {
                written = []
                var calls = 0
                #expect(throws: Full.self) {
                    try pool.encode(buffers) { chunk in
                        calls += 1
                        guard written.count < failing else { throw Full() }
                        written.append(chunk.bytes)
                    }
                }
                #expect(written.elementsEqual(expected.prefix(failing)), "\(threads) threads, failing at \(failing)")
                #expect(calls == failing + 1, "\(threads) threads, failing at \(failing)")
            }
            // And the next row group is written whole again.
            written = []
            try pool.encode(buffers) { written.append($0.bytes) }
            #expect(written.elementsEqual(expected), "\(threads) threads, after failures")
        }
    }

    /// A buffer told how many rows its row group will hold makes room for them at its first
    /// rows: no reallocation while they come, whatever the batches; room for indexed rows'
    /// indices too.
    @Test func aBufferSizedForItsRowsNeverGrows() {
        var numbers = ColumnBuffer(ParquetColumn("d", .double, nullable: true))
        numbers.expect(rows: 10_000)
        #expect(numbers.validity.capacity >= 10_000)
        var storage: UnsafePointer<Double>?
        for start in stride(from: 0, to: 10_000, by: 999) {
            let rows = min(999, 10_000 - start)
            numbers.append(ColumnBatch(.double(Array(repeating: 1.5, count: rows))), rows: 0..<rows)
            guard case .double(let buffered) = numbers.values else { Issue.record("not doubles"); return }
            // The same storage from the first rows on: never reallocated, never copied.
            let address = buffered.withUnsafeBufferPointer { $0.baseAddress }
            #expect(buffered.capacity >= 10_000 && address == storage ?? address, "after \(start + rows) rows")
            storage = address
        }
        guard case .double(let filled) = numbers.values else { Issue.record("not doubles"); return }
        #expect(filled.count == 10_000)

        var strings = ColumnBuffer(ParquetColumn("s", .string))
        strings.expect(rows: 5000)
        strings.append(ColumnBatch(.indexed(IndexedByteArrays(values: ByteArrayColumn(["a", "b"]), indices: [1, 0]))), rows: 0..<2)
        guard case .indexed(let indexed) = strings.values else { Issue.record("not indexed"); return }
        #expect(indexed.indices.capacity >= 5000)
    }

    /// A row group's first batch that holds all of its rows is buffered as it is, sharing the
    /// caller's array; part of a batch, or a batch short of the group, is copied.
    @Test func aBatchThatIsTheWholeRowGroupIsNotCopied() {
        let values: [Int64] = (0..<1000).map { $0 * 3 }
        let address = values.withUnsafeBufferPointer { $0.baseAddress }
        func buffered(expecting expected: Int, rows: Range<Int>) -> (same: Bool, values: [Int64]) {
            var buffer = ColumnBuffer(ParquetColumn("n", .int64))
            buffer.expect(rows: expected)
            buffer.append(ColumnBatch(.int64(values)), rows: rows)
            guard case .int64(let held) = buffer.values else { return (false, []) }
            return (held.withUnsafeBufferPointer { $0.baseAddress } == address, held)
        }
        let whole = buffered(expecting: 1000, rows: 0..<1000)
        #expect(whole.same && whole.values == values)
        let short = buffered(expecting: 2000, rows: 0..<1000)
        #expect(!short.same && short.values == values)
        let part = buffered(expecting: 500, rows: 250..<750)
        #expect(!part.same && part.values == Array(values[250..<750]))

        // Indexed rows' indices likewise.
        let ids = ByteArrayColumn(["a", "b", "c"])
        let indices: [Int32] = (0..<1000).map { Int32($0 % 3) }
        let indicesAddress = indices.withUnsafeBufferPointer { $0.baseAddress }
        var strings = ColumnBuffer(ParquetColumn("s", .string))
        strings.expect(rows: 1000)
        strings.append(ColumnBatch(.indexed(IndexedByteArrays(values: ids, indices: indices))), rows: 0..<1000)
        guard case .indexed(let held) = strings.values else { Issue.record("not indexed"); return }
        #expect(held.indices.withUnsafeBufferPointer { $0.baseAddress } == indicesAddress && held.indices == indices)
    }

    /// A buffer emptied for the next row group keeps its storage, numbers and indexed rows'
    /// indices alike; a caller's array taken whole is let go.
    @Test func anEmptiedBufferKeepsItsStorageForTheNextRowGroup() {
        let ids = ByteArrayColumn(["a", "b", "c"])
        let indices: [Int32] = (0..<3000).map { Int32($0 % 3) }
        let numbers: [Int64] = (0..<3000).map { $0 }
        var strings = ColumnBuffer(ParquetColumn("s", .string))
        var integers = ColumnBuffer(ParquetColumn("n", .int64))
        for group in 0..<3 {
            let rows = group * 1000..<(group + 1) * 1000
            strings.expect(rows: 1000)
            integers.expect(rows: 1000)
            strings.append(ColumnBatch(.indexed(IndexedByteArrays(values: ids, indices: indices))), rows: rows)
            integers.append(ColumnBatch(.int64(numbers)), rows: rows)
            #expect(strings.byteRows?.indices == Array(indices[rows]))
            #expect(integers.values == .int64(Array(numbers[rows])))
            strings.removeAll()
            integers.removeAll()
            guard case .int64(let kept) = integers.values else { Issue.record("not int64"); return }
            #expect(kept.isEmpty && kept.capacity >= 1000, "row group \(group)")
            #expect(strings.spareIndices.isEmpty && strings.spareIndices.capacity >= 1000, "row group \(group)")
        }
        var whole = ColumnBuffer(ParquetColumn("s", .string))
        whole.expect(rows: 3000)
        whole.append(ColumnBatch(.indexed(IndexedByteArrays(values: ids, indices: indices))), rows: 0..<3000)
        whole.removeAll()
        #expect(whole.spareIndices.capacity == 0)
    }

    static let words = ["alpha", "", "ω-omega", "日本語", "zeta", "é", "Zulu"]
}
