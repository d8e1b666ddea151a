import Foundation
@testable import Parquet

/// A small table with tricky values, written by round-trip and interop tests.
struct TableFixture {
    var name: String
    var columns: [ParquetColumn]
    /// One batch per column, all rows.
    var data: [ColumnBatch]
    var options: ParquetWriterOptions
    /// The encodings (as pyarrow names them) every chunk of a column must list, by column name;
    /// `check_parquet.py` asserts them. Columns not named are not checked.
    var expectedEncodings: [String: [String]] = [:]

    var rowCount: Int { data.first?.count ?? 0 }

    /// Writes the table in batches of `batchRows` rows to `directory/name.parquet`.
    @discardableResult
    func write(to directory: URL, batchRows: Int = 777, expectedRows: Int? = nil) throws -> ParquetFileInfo {
        let writer = try ParquetWriter(path: directory.appendingPathComponent("\(name).parquet").path,
                                       columns: columns, options: options, expectedRows: expectedRows)
        var start = 0
        repeat {
            let end = min(start + batchRows, rowCount)
            try writer.append(data.map { $0.slice(start..<end) })
            start = end
        } while start < rowCount
        return try writer.close()
    }

    /// The expected-values record shared with `Tests/interop/check_parquet.py` (see its docstring).
    func expectedJSON(rowGroups: Int) -> [String: Any] {
        let compression: String
        switch options.compression {
        case .none: compression = "none"
        case .zstd: compression = "zstd"
        }
        return [
            "file": "\(name).parquet", "rows": rowCount, "row_groups": rowGroups, "compression": compression,
            "columns": zip(columns, data).map { column, batch in
                var entry: [String: Any] = ["name": column.name, "type": column.type.description, "nullable": column.nullable,
                                            "values": batch.jsonValues(as: column.type)]
                if let encodings = expectedEncodings[column.name] { entry["encodings"] = encodings }
                return entry
            },
        ]
    }

    static let words = ["alpha", "", "ω-omega", "日本語", "zeta", "é", "\u{1F600} emoji", "a\u{0}b", "Zulu", "~tilde"]

    /// Every column type, nulls, extremes, NaN and ±0, several pages and row groups.
    static func allTypes(name: String, compression: ParquetWriterOptions.Compression, rows: Int = 5000) -> TableFixture {
        var random = SeededGenerator(seed: 42)
        var ids: [Int64] = [], small: [Int32] = [], smallValid: [Bool] = [], big: [Int64] = []
        var doubles: [Double] = [], doublesValid: [Bool] = [], clean: [Double] = []
        var strings = ByteArrayColumn(), stringsValid: [Bool] = [], blobs = ByteArrayColumn()
        let int32Specials: [Int32] = [.min, .max, 0, -1, 1]
        let int64Specials: [Int64] = [.min, .max, 0, -1, Int64(Int32.max) + 1]
        let doubleSpecials: [Double] = [.nan, -0.0, 0.0, .infinity, -.infinity, .leastNonzeroMagnitude, -1.5, .greatestFiniteMagnitude]
        for row in 0..<rows {
            ids.append(Int64(row))
            small.append(row < int32Specials.count ? int32Specials[row] : Int32.random(in: -1000...1000, using: &random))
            smallValid.append(row % 7 != 3)
            big.append(row < int64Specials.count ? int64Specials[row] : Int64.random(in: .min ... .max, using: &random))
            doubles.append(row < doubleSpecials.count ? doubleSpecials[row] : Double.random(in: -1e6...1e6, using: &random))
            doublesValid.append(row % 5 != 4)
            clean.append(row % 2 == 0 ? (row % 4 == 0 ? -0.0 : 0.0) : Double(row) * 0.25)
            // Words change every 700 rows so row groups have different string bounds.
            strings.append(words[(row / 700 + row % 3) % words.count])
            stringsValid.append(row % 11 != 0)
            blobs.append(row % 13 == 0 ? [] : [UInt8(truncatingIfNeeded: row), 0xFF, 0x00, UInt8(truncatingIfNeeded: row >> 8)])
        }
        var options = ParquetWriterOptions()
        options.compression = compression
        options.rowGroupRows = 2000
        options.pageBytes = 4096
        options.keyValueMetadata = [ParquetKeyValue("fixture", name)]
        return TableFixture(
            name: name,
            columns: [ParquetColumn("id", .int64), ParquetColumn("i32", .int32, nullable: true), ParquetColumn("i64", .int64),
                      ParquetColumn("d", .double, nullable: true), ParquetColumn("d_clean", .double),
                      ParquetColumn("s", .string, nullable: true), ParquetColumn("b", .bytes)],
            data: [ColumnBatch(.int64(ids)), ColumnBatch(.int32(small), validity: smallValid), ColumnBatch(.int64(big)),
                   ColumnBatch(.double(doubles), validity: doublesValid), ColumnBatch(.double(clean)),
                   ColumnBatch(.byteArray(strings), validity: stringsValid), ColumnBatch(.byteArray(blobs))],
            options: options)
    }

    /// A table with the same schema and no rows.
    static func zeroRows() -> TableFixture {
        var table = allTypes(name: "zero_rows", compression: .zstd(level: 3), rows: 0)
        table.options.rowGroupRows = 1 << 20
        return table
    }

    /// One row; a nullable column that is entirely null; a long string over the statistics limit.
    static func edgeCases() -> TableFixture {
        var long = ByteArrayColumn()
        long.append(String(repeating: "x", count: 5000))
        long.append("short")
        var options = ParquetWriterOptions()
        options.compression = .none
        return TableFixture(
            name: "edge_cases",
            columns: [ParquetColumn("id", .int32), ParquetColumn("all_null", .int64, nullable: true),
                      ParquetColumn("long", .string), ParquetColumn("nan_only", .double)],
            data: [ColumnBatch(.int32([7, 8])), ColumnBatch(.int64([0, 0]), validity: [false, false]),
                   ColumnBatch(.byteArray(long)), ColumnBatch(.double([.nan, .nan]))],
            options: options)
    }

    /// Dictionary and DELTA_BINARY_PACKED chunks of every kind: sorted ints, Int32/Int64
    /// extremes with wrap-around deltas, nulls, empty strings, single-value dictionaries, chunks
    /// that fall back to PLAIN (too many distinct values, dictionary page over the limit),
    /// indexed strings, over several pages and row groups.
    static func encodings(name: String = "encodings", compression: ParquetWriterOptions.Compression = .zstd(level: 3),
                          rows: Int = 5000) -> TableFixture {
        var random = SeededGenerator(seed: 9)
        let int32Specials: [Int32] = [.max, .min, .max, 0, .min, -1, 1]
        let int64Specials: [Int64] = [.max, .min, .max, 0, .min, -1, 1]
        var sorted32: [Int32] = [], sorted64: [Int64] = [], wrap32: [Int32] = [], wrap64: [Int64] = [], wide: [Int64] = []
        var dictionary = ByteArrayColumn(), single = ByteArrayColumn(), empty = ByteArrayColumn()
        var unique = ByteArrayColumn(), long = ByteArrayColumn(), blobs = ByteArrayColumn(), indexed: [Int32] = []
        for row in 0..<rows {
            sorted32.append(Int32(row / 3) - 800)
            sorted64.append(Int64(row) * 1_000_003 - 1_000_000_000_000)
            wrap32.append(row % 700 < int32Specials.count ? int32Specials[row % 700] : Int32.random(in: .min ... .max, using: &random))
            wrap64.append(row % 700 < int64Specials.count ? int64Specials[row % 700] : Int64.random(in: .min ... .max, using: &random))
            wide.append(Int64.random(in: .min ... .max, using: &random))
            dictionary.append(words[(row * 3 + row / 5) % words.count])
            single.append("only")
            empty.append("")
            unique.append("id-\(row)")
            long.append(String(repeating: Array("abcd")[row % 4], count: 1000))
            blobs.append(row % 4 == 0 ? [] : [0xFF, UInt8(row % 3), 0x00])
            indexed.append(Int32((row / 4 + row % 3) % words.count))
        }
        var options = ParquetWriterOptions()
        options.compression = compression
        options.rowGroupRows = 2000
        options.pageBytes = 1024
        options.dictionaryPageBytes = 2048
        options.columnEncodings = ["wrap_i32": .deltaBinaryPacked, "wrap_i64": .deltaBinaryPacked, "long_s": .dictionary]
        let delta = ["DELTA_BINARY_PACKED"], dictionaryEncodings = ["PLAIN", "RLE_DICTIONARY"]
        return TableFixture(
            name: name,
            columns: [ParquetColumn("sorted_i32", .int32), ParquetColumn("sorted_i64", .int64, nullable: true),
                      ParquetColumn("wrap_i32", .int32), ParquetColumn("wrap_i64", .int64, nullable: true),
                      ParquetColumn("wide_i64", .int64), ParquetColumn("dict_s", .string, nullable: true),
                      ParquetColumn("single_s", .string), ParquetColumn("empty_or_null", .string, nullable: true),
                      ParquetColumn("unique_s", .string), ParquetColumn("long_s", .string), ParquetColumn("dict_b", .bytes),
                      ParquetColumn("indexed_s", .string, nullable: true)],
            data: [ColumnBatch(.int32(sorted32)), ColumnBatch(.int64(sorted64), validity: (0..<rows).map { $0 % 4 != 1 }),
                   ColumnBatch(.int32(wrap32)), ColumnBatch(.int64(wrap64), validity: (0..<rows).map { $0 % 9 != 8 }),
                   ColumnBatch(.int64(wide)), ColumnBatch(.byteArray(dictionary), validity: (0..<rows).map { $0 % 11 != 0 }),
                   ColumnBatch(.byteArray(single)), ColumnBatch(.byteArray(empty), validity: (0..<rows).map { $0 % 2 == 0 }),
                   ColumnBatch(.byteArray(unique)), ColumnBatch(.byteArray(long)), ColumnBatch(.byteArray(blobs)),
                   ColumnBatch(.indexed(IndexedByteArrays(values: ByteArrayColumn(words), indices: indexed)),
                               validity: (0..<rows).map { $0 % 6 != 5 })],
            options: options,
            expectedEncodings: ["sorted_i32": delta, "sorted_i64": delta + ["RLE"], "wrap_i32": delta,
                                "wrap_i64": delta + ["RLE"], "wide_i64": ["PLAIN"], "dict_s": dictionaryEncodings + ["RLE"],
                                "single_s": dictionaryEncodings, "empty_or_null": dictionaryEncodings + ["RLE"],
                                "unique_s": ["PLAIN"], "long_s": ["PLAIN"], "dict_b": dictionaryEncodings,
                                "indexed_s": dictionaryEncodings + ["RLE"]])
    }

    static func all() -> [TableFixture] {
        [allTypes(name: "all_types_zstd", compression: .zstd(level: 3)),
         allTypes(name: "all_types_plain", compression: .none),
         encodings(), encodings(name: "encodings_uncompressed", compression: .none),
         encodings(name: "encodings_zero_rows", rows: 0),
         zeroRows(), edgeCases()]
    }
}

extension ColumnBatch {
    /// Rows `range` of this batch.
    func slice(_ range: Range<Int>) -> ColumnBatch {
        let values: ColumnValues
        switch self.values {
        case .int32(let v): values = .int32(Array(v[range]))
        case .int64(let v): values = .int64(Array(v[range]))
        case .double(let v): values = .double(Array(v[range]))
        case .byteArray(let v):
            var column = ByteArrayColumn()
            column.append(contentsOf: v, range: range)
            values = .byteArray(column)
        case .indexed(let v):
            values = .indexed(IndexedByteArrays(values: v.values, indices: Array(v.indices[range])))
        }
        return ColumnBatch(values, validity: validity.map { Array($0[range]) })
    }

    func isValid(_ row: Int) -> Bool { validity?[row] ?? true }

    /// Row `row`'s bytes, copied or indexed; nil for numbers.
    func byteValue(_ row: Int) -> ArraySlice<UInt8>? {
        switch values {
        case .byteArray(let v): v[row]
        case .indexed(let v): v.values[Int(v.indices[row])]
        default: nil
        }
    }

    /// Values for the expected-values JSON: ints as numbers, doubles as 16 hex digits of their
    /// bits, strings as text, bytes as hex, nulls as null.
    func jsonValues(as type: ParquetColumnType) -> [Any] {
        (0..<count).map { row -> Any in
            guard isValid(row) else { return NSNull() }
            switch values {
            case .int32(let v): return NSNumber(value: v[row])
            case .int64(let v): return NSNumber(value: v[row])
            case .double(let v): return String(format: "%016llx", v[row].bitPattern)
            case .byteArray, .indexed:
                let bytes = byteValue(row)!
                if type == .string { return String(decoding: bytes, as: UTF8.self) }
                return bytes.map { String(format: "%02x", $0) }.joined()
            }
        }
    }

    /// Whether both batches have the same nulls and, at valid rows, the same values (doubles
    /// compared by bit pattern, so NaN equals NaN and -0.0 differs from +0.0).
    func sameRows(as other: ColumnBatch) -> Bool {
        guard count == other.count else { return false }
        for row in 0..<count {
            guard isValid(row) == other.isValid(row) else { return false }
            guard isValid(row) else { continue }
            switch (values, other.values) {
            case (.int32(let a), .int32(let b)): if a[row] != b[row] { return false }
            case (.int64(let a), .int64(let b)): if a[row] != b[row] { return false }
            case (.double(let a), .double(let b)): if a[row].bitPattern != b[row].bitPattern { return false }
            default: if byteValue(row) == nil || byteValue(row) != other.byteValue(row) { return false }
            }
        }
        return true
    }
}
