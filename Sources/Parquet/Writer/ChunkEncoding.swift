/// How one column chunk's values are encoded, decided from the whole buffered chunk before any
/// page is written, so a chunk never switches encoding midway (notes §3.1, §4 #13).
enum ChunkEncoding {
    case plain
    /// A PLAIN dictionary page, then RLE_DICTIONARY data pages.
    case dictionary(ByteArrayDictionary)
    case deltaBinaryPacked

    /// The data pages' value encoding.
    var dataEncoding: ParquetEncoding {
        switch self {
        case .plain: .plain
        case .dictionary: .rleDictionary
        case .deltaBinaryPacked: .deltaBinaryPacked
        }
    }

    /// The encoding for `buffer` under `options`; `requested` is the column's entry in
    /// `options.columnEncodings`, already checked against the column's type. `storedSize` gives
    /// the size of some page bytes as the codec would store them.
    static func choose(for buffer: ColumnBuffer, requested: ParquetColumnEncoding, options: ParquetWriterOptions,
                       storedSize: ([UInt8]) -> Int) -> ChunkEncoding {
        switch (requested, buffer.values) {
        case (.plain, _):
            return .plain
        case (.deltaBinaryPacked, _):
            return .deltaBinaryPacked
        case (.dictionary, _):
            return dictionary(buffer, maxEntries: Int(Int32.max), options) ?? .plain
        case (.automatic, .byteArray), (.automatic, .indexed):
            guard options.dictionary else { return .plain }
            // More entries than half the values: indices plus dictionary no longer beat PLAIN.
            // Values that repeat only in consecutive runs (sorted ids) would be a little smaller
            // as PLAIN + zstd, but the dictionary is much faster to write: B2's pair counts,
            // sorted by user, took 0.67 s to write instead of 0.89 s, for a file 0.9% larger.
            let values = buffer.rowCount - buffer.nullCount
            return dictionary(buffer, maxEntries: values / 2, options) ?? .plain
        case (.automatic, .int32(let values)) where options.deltaIntegers:
            return deltaPays(values, buffer, storedSize) ? .deltaBinaryPacked : .plain
        case (.automatic, .int64(let values)) where options.deltaIntegers:
            return deltaPays(values, buffer, storedSize) ? .deltaBinaryPacked : .plain
        default:
            return .plain
        }
    }

    private static func dictionary(_ buffer: ColumnBuffer, maxEntries: Int, _ options: ParquetWriterOptions) -> ChunkEncoding? {
        guard maxEntries >= 1, let rows = buffer.byteRows else { return nil }
        return ByteArrayDictionary.build(rows, isValid: buffer.isValid, maxEntries: maxEntries,
                                         maxPlainBytes: options.dictionaryPageBytes).map { .dictionary($0) }
    }

    /// Whether DELTA_BINARY_PACKED is worth it for the chunk's non-null values: always when they
    /// never decrease (sorted keys, indices, offsets); otherwise when a sample of them, encoded
    /// both ways and compressed with the file's codec, is smaller as deltas. Packed deltas alone
    /// mislead: PLAIN + zstd beats them on skewed values such as Zipf-like counts.
    private static func deltaPays<T: FixedWidthInteger & SignedInteger>(_ values: [T], _ buffer: ColumnBuffer,
                                                                       _ storedSize: ([UInt8]) -> Int) -> Bool {
        buffer.withNonNullValues(values) { dense in
            guard dense.count > 1 else { return false }
            var sorted = true
            for k in 1..<dense.count where dense[k] < dense[k - 1] {
                sorted = false
                break
            }
            if sorted { return true }
            // Four windows spread over the chunk, 16 Ki values in all.
            let window = 4096
            var sample: [T] = []
            if dense.count <= 4 * window {
                sample = Array(dense)
            } else {
                for k in 0..<4 {
                    let start = (dense.count - window) * k / 3
                    sample += dense[start..<start + window]
                }
            }
            return sample.withUnsafeBufferPointer { sample in
                var plain: [UInt8] = [], delta: [UInt8] = []
                plain.append(contentsOf: UnsafeRawBufferPointer(sample))
                DeltaBinaryPackedEncoder.encode(sample, into: &delta)
                return storedSize(delta) < storedSize(plain)
            }
        }
    }
}

extension ColumnBuffer {
    /// The number of null rows.
    var nullCount: Int {
        column.nullable ? validity.reduce(0) { $1 ? $0 : $0 + 1 } : 0
    }

    /// Calls `body` with the values at the valid rows of `rows` (all rows when nil), copying only
    /// when some of those rows are null.
    func withNonNullValues<T, R>(_ values: [T], rows: Range<Int>? = nil, _ body: (UnsafeBufferPointer<T>) -> R) -> R {
        let rows = rows ?? 0..<values.count
        if column.nullable && validity[rows].contains(false) {
            var dense: [T] = []
            dense.reserveCapacity(rows.count)
            for row in rows where validity[row] { dense.append(values[row]) }
            return dense.withUnsafeBufferPointer(body)
        }
        return values.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[rows])) }
    }
}
