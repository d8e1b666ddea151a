import Foundation
import Parquet

/// A key of the count, by ids: the id of each role in the key (nil for a role not in the key,
/// or for the OOV bucket).
struct IdKey: Hashable, Comparable {
    var user: [UInt8]?
    var item: [UInt8]?

    /// By user id then item id, bytes ascending; a null id (the OOV bucket) first.
    static func < (a: IdKey, b: IdKey) -> Bool {
        if a.user != b.user { return precedes(a.user, b.user) }
        return precedes(a.item, b.item)
    }

    private static func precedes(_ a: [UInt8]?, _ b: [UInt8]?) -> Bool {
        switch (a, b) {
        case (nil, nil): false
        case (nil, _): true
        case (_, nil): false
        case let (a?, b?): a.lexicographicallyPrecedes(b)
        }
    }
}

/// The loss's target: one number per key (a logit, a log-rate or a value), keyed by ids.
///
/// Read from Parquet (as pyarrow writes it) or CSV (plain or zstd) with the key's id columns
/// (`user_id`, `item_id`) and the target column.
struct TargetTable {
    /// The keys in file order, and their targets.
    private(set) var keys: [IdKey] = []
    private(set) var targets: [Double] = []
    private var rows: [IdKey: Int] = [:]

    /// The target of `key`, if the table has it.
    func target(for key: IdKey) -> Double? { rows[key].map { targets[$0] } }

    mutating func add(_ key: IdKey, _ target: Double, at location: InputLocation) throws {
        guard rows[key] == nil else {
            throw TallyError(.badInput, stage: .reduce, at: location, "duplicate key \(Self.describe(key)) in the target table")
        }
        rows[key] = keys.count
        keys.append(key)
        targets.append(target)
    }

    static func describe(_ key: IdKey) -> String {
        [key.user, key.item].compactMap { $0 }.map { "'\(String(decoding: $0, as: UTF8.self))'" }.joined(separator: ", ")
    }

    /// The id column of each role in `roles`: `user_id`, `item_id`.
    static func idColumn(_ role: Role) -> String { "\(role.rawValue)_id" }
}

extension TargetTable {
    /// Reads a Parquet target table.
    static func readParquet(path: String, displayPath: String, roles: [Role], targetColumn: String) throws -> TargetTable {
        let location = InputLocation(path: displayPath)
        do {
            let reader = try ParquetReader(path: path)
            let names = Set(reader.columns.map(\.name))
            for name in roles.map(idColumn) + [targetColumn] where !names.contains(name) {
                throw TallyError(.badInput, stage: .reduce, at: location,
                                 "missing column '\(name)' in the target table (it has: \(reader.columns.map(\.name).joined(separator: ", ")))")
            }
            let targets = try numbers(reader.read(column: targetColumn), column: targetColumn, at: location)
            var ids: [Role: ColumnBatch] = [:]
            for role in roles { ids[role] = try reader.read(column: idColumn(role)) }

            var table = TargetTable()
            for row in 0..<reader.rowCount {
                var key = IdKey()
                for role in roles {
                    let column = ids[role]!
                    guard case .byteArray(let values) = column.values else {
                        throw TallyError(.badInput, stage: .reduce, at: location, "column '\(idColumn(role))' is not a string column")
                    }
                    guard column.validity?[row] ?? true else {
                        throw TallyError(.badInput, stage: .reduce, at: location, "null id in column '\(idColumn(role))', row \(row + 1)")
                    }
                    if role == .user { key.user = Array(values[row]) } else { key.item = Array(values[row]) }
                }
                guard let target = targets[row] else {
                    throw TallyError(.badInput, stage: .reduce, at: location, "null target in column '\(targetColumn)', row \(row + 1)")
                }
                try table.add(key, target, at: location)
            }
            return table
        } catch let error as ParquetError {
            throw TallyError(.badInput, stage: .reduce, at: location, "cannot read the target table: \(error)")
        }
    }

    private static func numbers(_ column: ColumnBatch, column name: String, at location: InputLocation) throws -> [Double?] {
        let valid = { (row: Int) in column.validity?[row] ?? true }
        switch column.values {
        case .double(let values): return values.indices.map { valid($0) ? values[$0] : nil }
        case .int32(let values): return values.indices.map { valid($0) ? Double(values[$0]) : nil }
        case .int64(let values): return values.indices.map { valid($0) ? Double(values[$0]) : nil }
        case .byteArray:
            throw TallyError(.badInput, stage: .reduce, at: location, "target column '\(name)' is not numeric")
        }
    }
}

extension TargetTable {
    /// Reads the target table at `path`: Parquet when the file starts with `PAR1`, else CSV
    /// (plain or zstd) with a header naming the id columns and `column`.
    static func read(_ path: String, roles: [Role], column: String, pipeline: Pipeline) throws -> TargetTable {
        let file = try InputFile(path: path, base: pipeline.folder)
        let magic = try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).read(upToCount: 4)
        if magic == Data("PAR1".utf8) {
            return try readParquet(path: path, displayPath: file.displayPath, roles: roles, targetColumn: column)
        }
        return try readCSV(file, roles: roles, targetColumn: column)
    }

    /// Reads a CSV target table (comma-separated, with a header).
    static func readCSV(_ file: InputFile, roles: [Role], targetColumn: String) throws -> TargetTable {
        let reader = try RecordReader(file: file, fileIndex: 0)
        let names = roles.map(idColumn) + [targetColumn]
        guard let positions = try reader.columnPositions(names.map { .name($0) }) else { return TargetTable() }
        let parser = CSVFieldParser()
        var table = TargetTable()
        while let batch = try reader.next() {
            let parsed = try parser.parse(batch)
            for r in 0..<parsed.count {
                let location = batch.location(ofRecord: r, path: file.displayPath)
                if let error = parsed.error(ofRecord: r, path: file.displayPath) { throw error }
                guard parsed.fieldCount(ofRecord: r) > positions.max()! else {
                    throw TallyError(.badInput, stage: .reduce, at: location, "expected at least \(positions.max()! + 1) fields")
                }
                var key = IdKey()
                for (role, position) in zip(roles, positions) {
                    let id = Array(parsed.field(position, ofRecord: r))
                    if role == .user { key.user = id } else { key.item = id }
                }
                let text = parsed.field(positions.last!, ofRecord: r)
                guard let target = Array(text).withUnsafeBytes(FieldValues.parseDouble) else {
                    throw TallyError(.badInput, stage: .reduce,
                                     at: batch.location(ofRecord: r, path: file.displayPath, column: positions.last! + 1),
                                     "unparsable target '\(String(decoding: text, as: UTF8.self))'")
                }
                try table.add(key, target, at: location)
            }
        }
        return table
    }
}
