/// The binary form of a `FilePartial` in the state cache.
///
/// Little-endian fields (see `ByteWriter`), doubles as their exact bits so a partial read back
/// folds to the same bytes as the one counted; a format version first and the SHA-256 of
/// everything before it last, so a damaged or foreign file is never mistaken for a partial.
extension FilePartial {
    /// 2: ids' 32-bit hashes (`idHash`). 3: counts whose keys may repeat (`KeyTable.repeatsKeys`).
    static let magic = Array("TALLYPF3".utf8)

    func encoded() -> [UInt8] {
        var out = ByteWriter()
        out.write(bytes: Self.magic)
        out.write(ids.count)
        for role in ids {
            out.write(role.table)
            out.write(array: role.rows)
            out.write(array: role.firstLine)
        }
        out.write(keys.channels)
        out.write(array: keys.keys)
        out.write(array: keys.counts)
        out.write(array: keys.sums)
        out.write(keys.anchor)
        out.write(keys.repeatsKeys ? 1 : 0)
        for value in [stats.read, stats.kept, stats.filtered, stats.bad] { out.write(value) }
        out.write(latestTime)
        out.write(badRows.count)
        for row in badRows {
            out.write(row.stage.rawValue)
            out.write(row.location.path)
            out.write(row.location.line)
            out.write(row.location.column)
            out.write(row.location.byteOffset)
            out.write(row.reason)
            out.write(bytes: row.raw)
        }
        return out.sealed
    }

    /// The partial in `bytes`, or nil when they are not an intact partial of this version with
    /// `roles` roles and `channels` channels.
    static func decoded(_ bytes: [UInt8], roles: Int, channels: Int) -> FilePartial? {
        guard var input = ByteReader(sealed: bytes) else { return nil }
        do {
            guard try input.bytesValue() == magic, try input.int() == roles else { return nil }
            var partial = FilePartial(roles: roles, channels: channels)
            for k in 0..<roles {
                guard let table = try input.idTable() else { return nil }
                var ids = FileIds()
                ids.table = table
                ids.rows = try input.array(of: Int64.self)
                ids.firstLine = try input.array(of: Int.self)
                guard ids.rows.count == table.count, ids.firstLine.count == table.count else { return nil }
                partial.ids[k] = ids
            }
            guard try input.int() == channels else { return nil }
            let keys = try input.array(of: UInt64.self), counts = try input.array(of: Int64.self), sums = try input.doubles()
            guard counts.count == keys.count, sums.count == keys.count * channels else { return nil }
            let anchor = try input.optionalDouble(), repeatsKeys = try input.int()
            guard repeatsKeys == 0 || repeatsKeys == 1 else { return nil }
            partial.keys = KeyTable(channels: channels, keys: keys, counts: counts, sums: sums, anchor: anchor,
                                    repeatsKeys: repeatsKeys == 1)
            partial.stats = RowStats(read: try input.int(), kept: try input.int(), filtered: try input.int(), bad: try input.int())
            partial.latestTime = try input.optionalDouble()
            for _ in 0..<(try input.int()) {
                guard let stage = TallyError.Stage(rawValue: try input.string()) else { return nil }
                let location = InputLocation(path: try input.string(), line: try input.optionalInt(),
                                             column: try input.optionalInt(), byteOffset: try input.optionalInt64())
                partial.badRows.append(BadRow(stage: stage, location: location, reason: try input.string(), raw: try input.bytesValue()))
            }
            return input.isAtEnd ? partial : nil
        } catch {
            return nil
        }
    }
}
