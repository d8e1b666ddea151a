import Foundation
import Parquet

/// A key of the count, by ids: the id of each role in the key (nil for a role not in the key,
/// or for the OOV bucket), and the time bin for `[item, time]`. Ids are slices, so a key of an
/// output row shares its bytes with the vocabulary instead of copying them.
struct IdKey: Hashable, Comparable, Sendable {
    var user: ArraySlice<UInt8>?
    var item: ArraySlice<UInt8>?
    var bin: Int64?

    /// By user id, item id (bytes ascending; a null id, the OOV bucket, first), then time bin.
    static func < (a: IdKey, b: IdKey) -> Bool {
        if a.user != b.user { return precedes(a.user, b.user) }
        if a.item != b.item { return precedes(a.item, b.item) }
        return (a.bin ?? .min) < (b.bin ?? .min)
    }

    private static func precedes(_ a: ArraySlice<UInt8>?, _ b: ArraySlice<UInt8>?) -> Bool {
        switch (a, b) {
        case (nil, nil): false
        case (nil, _): true
        case (_, nil): false
        case let (a?, b?): a.lexicographicallyPrecedes(b)
        }
    }

    /// The id of `role`.
    func id(of role: Role) -> ArraySlice<UInt8>? { role == .user ? user : item }

    /// Sets the id of `role`.
    mutating func set(_ role: Role, _ id: ArraySlice<UInt8>?) {
        if role == .user { user = id } else { item = id }
    }

    var description: String {
        ([user, item].compactMap { $0 }.map { "'\(String(decoding: $0, as: UTF8.self))'" } + [bin.map { "bin \($0)" }].compactMap { $0 })
            .joined(separator: ", ")
    }
}

/// A table of numbers keyed by ids: a loss target (`item_id` + `logit`), a bag target
/// (`user_id` + `e0…`) or an embedding table (`item_id` + `e0…`).
///
/// Read from Parquet (as pyarrow writes it) or CSV (plain or zstd) with the key's id columns
/// (`user_id`, `item_id`; and `time_bin` for `[item, time]`) and `width` value columns.
struct KeyedValues: Sendable {
    /// The value columns' names.
    let columns: [String]
    /// The keys in file order.
    private(set) var keys: [IdKey] = []
    /// `columns.count` values per key, back to back.
    private(set) var values: [Double] = []
    private var rows: [IdKey: Int] = [:]

    init(columns: [String]) { self.columns = columns }

    var width: Int { columns.count }

    /// The values of `key`, if the table has it.
    func values(for key: IdKey) -> ArraySlice<Double>? {
        rows[key].map { values[$0 * width ..< ($0 + 1) * width] }
    }

    /// The single value of `key` (tables of width 1).
    func value(for key: IdKey) -> Double? { rows[key].map { values[$0 * width] } }

    mutating func add(_ key: IdKey, _ row: [Double], at location: InputLocation) throws {
        guard rows[key] == nil else {
            throw TallyError(.badInput, stage: .reduce, at: location, "duplicate key \(key.description)")
        }
        rows[key] = keys.count
        keys.append(key)
        values += row
    }

    /// The table with `key`'s values replaced (or added) (for `gradcheck`).
    func replacing(_ key: IdKey, with row: [Double]) -> KeyedValues {
        var table = self
        if let index = rows[key] {
            table.values.replaceSubrange(index * width ..< (index + 1) * width, with: row)
        } else {
            table.rows[key] = keys.count
            table.keys.append(key)
            table.values += row
        }
        return table
    }

    /// The id column of `role`: `user_id`, `item_id`.
    static func idColumn(_ role: Role) -> String { "\(role.rawValue)_id" }
}

extension KeyedValues {
    /// Reads the table at `path`: Parquet when its name ends with `.parquet` or it starts with
    /// `PAR1`, else CSV (plain or zstd) with a header; keyed by `roles`' id columns (and
    /// `time_bin` when `timeBins`), with the value `columns`, which must be finite numbers.
    static func read(_ path: String, roles: [Role], timeBins: Bool = false, columns: [String], base: String) throws -> KeyedValues {
        let file = try InputFile(path: path, base: base)
        let magic = try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4)
        let binColumn = timeBins ? [binColumn] : []
        if magic == Data("PAR1".utf8) || path.lowercased().hasSuffix(".parquet") {
            return try readParquet(file, roles: roles, binColumn: binColumn, columns: columns)
        }
        return try readCSV(file, roles: roles, binColumn: binColumn, columns: columns)
    }

    static let binColumn = "time_bin"

    static func readParquet(_ file: InputFile, roles: [Role], binColumn: [String], columns: [String]) throws -> KeyedValues {
        let location = InputLocation(path: file.displayPath)
        func bad(_ message: String) -> TallyError { TallyError(.badInput, stage: .reduce, at: location, message) }
        do {
            let reader = try ParquetReader(path: file.path)
            let names = Set(reader.columns.map(\.name))
            for name in roles.map(idColumn) + binColumn + columns where !names.contains(name) {
                throw bad("missing column '\(name)' (the table has: \(reader.columns.map(\.name).joined(separator: ", ")))")
            }
            let numbers = try columns.map { name in try Self.numbers(reader.read(column: name), name: name, bad: bad) }
            let bins = try binColumn.first.map { try Self.integers(reader.read(column: $0), name: $0, bad: bad) }
            var ids: [(Role, ByteArrayColumn, [Bool]?)] = []
            for role in roles {
                let column = try reader.read(column: idColumn(role))
                guard case .byteArray(let values) = column.values else { throw bad("column '\(idColumn(role))' is not a string column") }
                ids.append((role, values, column.validity))
            }
            var table = KeyedValues(columns: columns)
            for row in 0..<reader.rowCount {
                var key = IdKey()
                for (role, values, validity) in ids {
                    guard validity?[row] ?? true else { throw bad("null id in column '\(idColumn(role))', row \(row + 1)") }
                    key.set(role, Array(values[row])[...])
                }
                if let bins {
                    guard let bin = bins[row] else { throw bad("time_bin must be an integer, row \(row + 1)") }
                    key.bin = bin
                }
                let values = try numbers.enumerated().map { c, column -> Double in
                    guard let value = column[row] else { throw bad("null value in column '\(columns[c])', row \(row + 1)") }
                    guard value.isFinite else { throw bad("value \(value) in column '\(columns[c])', row \(row + 1): not a finite number") }
                    return value
                }
                try table.add(key, values, at: location)
            }
            return table
        } catch let error as ParquetError {
            throw bad("cannot read the table: \(error)")
        }
    }

    /// The column's integers, exactly (nil for a null, or a double that is no integer of 64 bits).
    private static func integers(_ column: ColumnBatch, name: String, bad: (String) -> TallyError) throws -> [Int64?] {
        let valid = { (row: Int) in column.validity?[row] ?? true }
        switch column.values {
        case .int32(let values): return values.indices.map { valid($0) ? Int64(values[$0]) : nil }
        case .int64(let values): return values.indices.map { valid($0) ? values[$0] : nil }
        case .double(let values): return values.indices.map { valid($0) ? Int64(exactly: values[$0]) : nil }
        case .byteArray, .indexed: throw bad("column '\(name)' is not numeric")
        }
    }

    private static func numbers(_ column: ColumnBatch, name: String, bad: (String) -> TallyError) throws -> [Double?] {
        let valid = { (row: Int) in column.validity?[row] ?? true }
        switch column.values {
        case .double(let values): return values.indices.map { valid($0) ? values[$0] : nil }
        case .int32(let values): return values.indices.map { valid($0) ? Double(values[$0]) : nil }
        case .int64(let values): return values.indices.map { valid($0) ? Double(values[$0]) : nil }
        case .byteArray, .indexed: throw bad("column '\(name)' is not numeric")
        }
    }

    static func readCSV(_ file: InputFile, roles: [Role], binColumn: [String], columns: [String]) throws -> KeyedValues {
        let reader = try RecordReader(file: file, fileIndex: 0)
        let names = roles.map(idColumn) + binColumn + columns
        var table = KeyedValues(columns: columns)
        guard let positions = try reader.columnPositions(names.map { .name($0) }) else {
            throw TallyError(.badInput, stage: .reduce, at: InputLocation(path: file.displayPath),
                             "the table has no header row (\(names.joined(separator: ", ")) expected): an empty file?")
        }
        let parser = CSVFieldParser()
        let width = try reader.header()!.names.count
        while let batch = try reader.next() {
            let parsed = try parser.parse(batch)
            for r in 0..<parsed.count {
                if let error = parsed.error(ofRecord: r, path: file.displayPath) { throw error }
                let location = batch.location(ofRecord: r, path: file.displayPath)
                let fields = parsed.fieldCount(ofRecord: r)
                // As in the logs: as many fields as the header, located at the first missing or extra one.
                guard fields == width else {
                    throw TallyError(.badInput, stage: .reduce,
                                     at: batch.location(ofRecord: r, path: file.displayPath, column: min(fields, width) + 1),
                                     "expected \(width) fields, as the header has, found \(fields)")
                }
                var key = IdKey()
                for (role, position) in zip(roles, positions) { key.set(role, Array(parsed.field(position, ofRecord: r))[...]) }
                if !binColumn.isEmpty {
                    let text = String(decoding: parsed.field(positions[roles.count], ofRecord: r), as: UTF8.self)
                    guard let bin = Int64(text) else {
                        throw TallyError(.badInput, stage: .reduce,
                                         at: batch.location(ofRecord: r, path: file.displayPath, column: positions[roles.count] + 1),
                                         "time_bin must be an integer, found '\(text)'")
                    }
                    key.bin = bin
                }
                var row: [Double] = []
                for position in positions[(roles.count + binColumn.count)...] {
                    let text = parsed.field(position, ofRecord: r)
                    guard let value = Array(text).withUnsafeBytes(FieldValues.parseDouble) else {
                        throw TallyError(.badInput, stage: .reduce,
                                         at: batch.location(ofRecord: r, path: file.displayPath, column: position + 1),
                                         "unparsable number '\(String(decoding: text, as: UTF8.self))'")
                    }
                    row.append(value)
                }
                try table.add(key, row, at: location)
            }
        }
        return table
    }
}
