import Foundation
import Testing
@testable import Parquet

/// Size and speed of the writer on tables shaped like the engine's outputs.
///
/// Off by default (seconds of work, hundreds of MB). Run in release:
/// `PARQUET_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter WriterBenchmarks`
/// (`PARQUET_BENCH=big` adds the 10M-row pairs table). Prints one line per table and variant.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PARQUET_BENCH"] != nil))
struct WriterBenchmarks {
    struct Table {
        var name: String
        var columns: [ParquetColumn]
        var batch: [ColumnBatch]
        var rows: Int { batch[0].count }

        /// Bytes of the values as the caller hands them over: 4 or 8 per number, the bytes of
        /// each string (offsets not counted).
        var rawBytes: Int {
            batch.reduce(0) { total, column in
                switch column.values {
                case .int32(let v): total + 4 * v.count
                case .int64(let v): total + 8 * v.count
                case .double(let v): total + 8 * v.count
                case .byteArray(let v): total + v.bytes.count
                case .indexed(let v): v.indices.reduce(total) { $0 + v.values[Int($1)].count }
                }
            }
        }
    }

    /// A value in 0..<n drawn with a heavy head (about Zipf): small values are far more common.
    static func skewed(_ n: Int, _ random: inout SeededGenerator) -> Int {
        let u = Double.random(in: 0..<1, using: &random)
        return min(n - 1, Int(Double(n) * u * u * u))
    }

    static func id(_ prefix: String, _ value: Int) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return Array(prefix.utf8) + (0..<8).reversed().map { digits[(value >> (4 * $0)) & 15] }
    }

    /// `counts.parquet`-like: sorted user index, item id strings, Zipf-ish counts, doubles.
    static func counts(rows: Int) -> Table {
        var random = SeededGenerator(seed: 1)
        var user = [Int32](), ids = ByteArrayColumn(), counts = [Int64](), values = [Double]()
        user.reserveCapacity(rows); counts.reserveCapacity(rows); values.reserveCapacity(rows)
        ids.reserveCapacity(values: rows, bytes: rows * 12)
        for row in 0..<rows {
            user.append(Int32(row / 8))
            ids.append(id("sku-", skewed(100_000, &random)))
            let u = Double.random(in: 0..<1, using: &random)
            counts.append(min(1_000_000, Int64(1 / max(u, 1e-6))))
            values.append(Double.random(in: 0..<1, using: &random))
        }
        return Table(name: "counts_1M",
                     columns: [ParquetColumn("user", .int32), ParquetColumn("item_id", .string, nullable: true),
                               ParquetColumn("count", .int64), ParquetColumn("value", .double)],
                     batch: [ColumnBatch(.int32(user)), ColumnBatch(.byteArray(ids)),
                             ColumnBatch(.int64(counts)), ColumnBatch(.double(values))])
    }

    /// A pairs table: sorted user index, Zipf-ish item index, both as string ids too.
    static func pairs(rows: Int) -> Table {
        var random = SeededGenerator(seed: 2)
        var user = [Int32](), item = [Int32](), userIDs = ByteArrayColumn(), itemIDs = ByteArrayColumn()
        user.reserveCapacity(rows); item.reserveCapacity(rows)
        userIDs.reserveCapacity(values: rows, bytes: rows * 13)
        itemIDs.reserveCapacity(values: rows, bytes: rows * 12)
        for row in 0..<rows {
            let u = row / 20, i = skewed(200_000, &random)
            user.append(Int32(u))
            item.append(Int32(i))
            userIDs.append(id("user-", u))
            itemIDs.append(id("sku-", i))
        }
        return Table(name: "pairs_10M",
                     columns: [ParquetColumn("user", .int32), ParquetColumn("item", .int32),
                               ParquetColumn("user_id", .string), ParquetColumn("item_id", .string)],
                     batch: [ColumnBatch(.int32(user)), ColumnBatch(.int32(item)),
                             ColumnBatch(.byteArray(userIDs)), ColumnBatch(.byteArray(itemIDs))])
    }

    /// Writes `table` three times and prints its size, best time and throughput.
    @discardableResult
    static func measure(_ table: Table, _ label: String, _ options: ParquetWriterOptions, in directory: URL) throws -> Int {
        let path = directory.appendingPathComponent("\(table.name).parquet").path
        let clock = ContinuousClock()
        var info: ParquetFileInfo?
        var best = Double.infinity, bestCPU = Double.infinity
        for _ in 0..<3 {
            let cpuBefore = Self.processCPUSeconds()
            let elapsed = try clock.measure {
                let writer = try ParquetWriter(path: path, columns: table.columns, options: options)
                try writer.append(table.batch)
                info = try writer.close()
            }
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
            bestCPU = min(bestCPU, Self.processCPUSeconds() - cpuBefore)
        }
        let bytes = info!.bytes
        var perColumn: [String] = []
        for (index, column) in table.columns.enumerated() {
            let chunks = info!.metadata.rowGroups.compactMap { $0.columns[index].metaData }
            let size = chunks.reduce(0) { $0 + $1.totalCompressedSize }
            let encodings = Set(chunks.flatMap { $0.encodings.map(\.description) }).sorted().joined(separator: "+")
            perColumn.append("\(column.name) \(size) B [\(encodings)]")
        }
        print(String(format: "bench %@ %@: %d rows, %d B, %.3f s (CPU %.3f s), %.1f MB/s raw (%.1f MB), %.2f M rows/s | ",
                     table.name, label, table.rows, bytes, best, bestCPU, Double(table.rawBytes) / best / 1e6,
                     Double(table.rawBytes) / 1e6, Double(table.rows) / best / 1e6)
              + perColumn.joined(separator: "; "))
        return bytes
    }

    /// CPU time of the whole process (all threads), user and system.
    static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }

    static func variants(_ table: Table) -> [(String, ParquetWriterOptions)] {
        let defaults = ParquetWriterOptions()
        var plain = defaults
        plain.dictionary = false
        plain.deltaIntegers = false
        var zstd1 = defaults
        zstd1.compression = .zstd(level: 1)
        var allDelta = defaults
        var allDictionary = defaults
        for column in table.columns {
            if [.int32, .int64].contains(column.type) { allDelta.columnEncodings[column.name] = .deltaBinaryPacked }
            if column.type == .string { allDictionary.columnEncodings[column.name] = .dictionary }
        }
        allDictionary.dictionaryPageBytes = 8 << 20
        var oneThread = defaults
        oneThread.encodingThreads = 1
        var plainOneThread = plain
        plainOneThread.encodingThreads = 1
        var uncompressed = defaults
        uncompressed.compression = .none
        let all = [("plain", plain), ("plain-1thread", plainOneThread), ("default", defaults), ("default-1thread", oneThread), ("zstd1", zstd1), ("all-delta", allDelta),
                   ("dict-8MiB", allDictionary), ("uncompressed", uncompressed)]
        // PARQUET_BENCH_VARIANTS=default,plain runs only those.
        guard let only = ProcessInfo.processInfo.environment["PARQUET_BENCH_VARIANTS"] else { return all }
        let names = only.split(separator: ",").map(String.init)
        return all.filter { names.contains($0.0) }
    }

    /// String columns of 1M rows holding 50k ids in random order, each repeated in runs of 1, 2,
    /// 4 and 8 rows: where does a dictionary stop paying against PLAIN + zstd?
    static func runs(rows: Int) -> Table {
        var random = SeededGenerator(seed: 3)
        var columns: [ColumnBatch] = []
        for length in [1, 2, 4, 8] {
            var ids = ByteArrayColumn()
            var value = 0
            for row in 0..<rows {
                if row % length == 0 { value = Int.random(in: 0..<50_000, using: &random) }
                ids.append(id("sku-", value))
            }
            columns.append(ColumnBatch(.byteArray(ids)))
        }
        return Table(name: "runs_1M", columns: [1, 2, 4, 8].map { ParquetColumn("run\($0)", .string) }, batch: columns)
    }

    @Test func runsTable() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = Self.runs(rows: 1_000_000)
        for (label, options) in Self.variants(table) {
            try Self.measure(table, label, options, in: directory)
        }
    }

    /// The dictionary builder alone on 10M Zipf-ish item ids (about 200k distinct).
    @Test func dictionaryBuild() throws {
        var random = SeededGenerator(seed: 2)
        var ids = ByteArrayColumn()
        ids.reserveCapacity(values: 10_000_000, bytes: 120_000_000)
        for _ in 0..<10_000_000 { ids.append(Self.id("sku-", Self.skewed(200_000, &random))) }
        let clock = ContinuousClock()
        var best = Duration.seconds(1000), entries = 0
        for _ in 0..<5 {
            let elapsed = clock.measure {
                entries = ByteArrayDictionary.build(ByteRows(source: ids, indices: nil), isValid: { _ in true }, maxEntries: .max, maxPlainBytes: .max)?.count ?? -1
            }
            best = min(best, elapsed)
        }
        print("bench dictionary build 10M ids: \(entries) entries, best \(best)")
    }

    @Test func countsTable() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = Self.counts(rows: 1_000_000)
        for (label, options) in Self.variants(table) {
            try Self.measure(table, label, options, in: directory)
        }
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["PARQUET_BENCH"] == "big"))
    func pairsTable() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = Self.pairs(rows: 10_000_000)
        for (label, options) in Self.variants(table) {
            try Self.measure(table, label, options, in: directory)
        }
    }
}
