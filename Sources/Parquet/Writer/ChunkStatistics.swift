/// Column chunk statistics as the notes (§1.6) prescribe.
///
/// - `null_count` always; `nan_count` always for doubles.
/// - Integers: signed min/max. Byte arrays: unsigned byte-wise min/max, omitted when either is
///   longer than `maxStatisticsBytes`.
/// - Doubles: min/max omitted when the chunk has any NaN; a zero minimum is written as -0.0 and a
///   zero maximum as +0.0.
/// - min/max omitted when every row is null.
enum ChunkStatistics {
    static let maxStatisticsBytes = 4096

    static func compute(_ buffer: ColumnBuffer) -> ParquetStatistics {
        var stats = ParquetStatistics()
        let nullCount = buffer.column.nullable ? buffer.validity.reduce(0) { $1 ? $0 : $0 + 1 } : 0
        stats.nullCount = Int64(nullCount)
        switch buffer.values {
        case .int32(let values):
            if let (min, max) = bounds(values, buffer) { stats.minValue = plain(min); stats.maxValue = plain(max) }
        case .int64(let values):
            if let (min, max) = bounds(values, buffer) { stats.minValue = plain(min); stats.maxValue = plain(max) }
        case .double(let values):
            var nanCount = 0
            var lowest = Double.infinity, highest = -Double.infinity, seen = false
            for (row, value) in values.enumerated() where buffer.isValid(row) {
                if value.isNaN { nanCount += 1; continue }
                seen = true
                if value < lowest { lowest = value }
                if value > highest { highest = value }
            }
            stats.nanCount = Int64(nanCount)
            if seen && nanCount == 0 {
                if lowest == 0 { lowest = -0.0 }
                if highest == 0 { highest = 0.0 }
                stats.minValue = plain(lowest)
                stats.maxValue = plain(highest)
            }
        case .byteArray(let column):
            var lowest: ArraySlice<UInt8>?, highest: ArraySlice<UInt8>?
            for row in 0..<column.count where buffer.isValid(row) {
                let value = column[row]
                if lowest.map({ value.lexicographicallyPrecedes($0) }) ?? true { lowest = value }
                if highest.map({ $0.lexicographicallyPrecedes(value) }) ?? true { highest = value }
            }
            if let lowest, let highest, lowest.count <= maxStatisticsBytes, highest.count <= maxStatisticsBytes {
                stats.minValue = Array(lowest)
                stats.maxValue = Array(highest)
            }
        }
        return stats
    }

    private static func bounds<T: FixedWidthInteger>(_ values: [T], _ buffer: ColumnBuffer) -> (T, T)? {
        var lowest = T.max, highest = T.min, seen = false
        for (row, value) in values.enumerated() where buffer.isValid(row) {
            seen = true
            if value < lowest { lowest = value }
            if value > highest { highest = value }
        }
        return seen ? (lowest, highest) : nil
    }

    /// The PLAIN bytes of a fixed-width value.
    static func plain<T: BitwiseCopyable>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value) { Array($0) }
    }
}
