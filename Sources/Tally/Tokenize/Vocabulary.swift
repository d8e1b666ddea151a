import Foundation
import Parquet

/// The vocabulary of one id role during a run: ids loaded from the vocabulary file, then the
/// ids new in this run, each with the number of kept rows that carried it.
///
/// During the run ids get *provisional* ids in the order the in-order fold first sees them
/// (loaded ids first, in index order), so the table is the same for any number of workers. The
/// final dense indices are decided once the input has ended (`finalize()`), because the
/// `frequency` order, `min_count` and `max_size` depend on counts over the whole input.
/// Not thread-safe: owned by the fold.
struct Vocabulary {
    let role: Role
    let settings: Pipeline.VocabularySettings
    /// Provisional ids: loaded ids are 0..<loaded.count, new ids follow in first-seen order.
    private(set) var table = IdTable(capacity: 1 << 12)
    /// Kept rows seen in this run, per provisional id.
    private(set) var counts: [Int64] = []
    /// The loaded vocabulary: the ids of the file, at their final indices.
    private let loaded: LoadedVocabulary

    init(role: Role, settings: Pipeline.VocabularySettings, loaded: LoadedVocabulary) {
        self.role = role
        self.settings = settings
        self.loaded = loaded
        for id in loaded.ids.indices {
            loaded.ids[id].withUnsafeBytes { _ = table.insert($0) }
            counts.append(0)
        }
    }

    /// Whether the id with provisional id `id` was in the loaded vocabulary.
    func isLoaded(_ id: Int32) -> Bool { Int(id) < loaded.ids.count }

    /// Whether an id absent from the loaded vocabulary is out of vocabulary as soon as it is seen.
    var isFrozen: Bool { settings.mode == .frozen }

    /// Records `rows` kept rows carrying `key` (whose `idHash` is `hash`); returns its
    /// provisional id.
    mutating func observe(_ key: UnsafeRawBufferPointer, hash: UInt32, rows: Int64) -> Int32 {
        let (id, inserted) = table.insert(key, hash: hash)
        if inserted { counts.append(0) }
        counts[Int(id)] += rows
        return id
    }

    /// Whether no id is loaded or seen yet.
    var isEmpty: Bool { table.count == 0 }

    /// Takes `ids` (with their kept rows) as the first ids seen: the same provisional ids and
    /// counts as observing each in order, without inserting them one by one. The vocabulary must
    /// be empty.
    mutating func adopt(_ ids: IdTable, rows: [Int64]) {
        precondition(isEmpty && ids.count == rows.count)
        table = ids
        counts = rows
    }

    /// Keeps the ids but lets go of their table's index, once no id will be looked up again
    /// (`IdTable.dropIndex`); `finalize` and `entries` read ids by number only.
    mutating func dropIndex() { table.dropIndex() }

    /// Decides the final index of every id: loaded ids keep theirs; new ids are admitted by
    /// `mode`, `min_count` and `max_size` and ordered by `order`; the rest are out of vocabulary.
    func finalize() throws -> VocabularyMapping {
        let bucket = settings.oov == .bucket
        var nextIndex = Int32(loaded.entryCount)
        if loaded.entryCount == 0 && bucket { nextIndex = 1 }   // index 0 is the OOV bucket

        var finalIndex = [Int32](repeating: VocabularyMapping.outOfVocabulary, count: counts.count)
        for id in loaded.ids.indices { finalIndex[id] = loaded.indices[id] }

        var admitted: [Int32] = []
        if !isFrozen {
            admitted = (loaded.ids.count..<counts.count)
                .filter { counts[$0] >= Int64(settings.minCount) }
                .map { Int32($0) }
            if settings.maxSize > 0 {
                let room = max(0, settings.maxSize - Int(nextIndex))
                if admitted.count > room {
                    admitted = Array(byFrequency(admitted).prefix(room))
                }
            }
            admitted = settings.order == .frequency ? byFrequency(admitted) : admitted.sorted()
        }
        for id in admitted {
            finalIndex[Int(id)] = nextIndex
            nextIndex += 1
        }

        if settings.oov == .fail, let first = finalIndex.firstIndex(of: VocabularyMapping.outOfVocabulary) {
            let id = String(decoding: table.key(Int32(first)), as: UTF8.self)
            throw TallyError(.badInput, stage: .tokenize, at: settings.location,
                             "\(role.rawValue) id '\(id)' is out of vocabulary (seen \(counts[first]) time(s); \(outOfVocabularyReason)) and oov is 'fail'")
        }
        let oovIndex: Int32 = bucket ? 0 : VocabularyMapping.dropped
        var outOfVocabulary = false
        for i in finalIndex.indices where finalIndex[i] == VocabularyMapping.outOfVocabulary {
            finalIndex[i] = oovIndex
            outOfVocabulary = true
        }
        return VocabularyMapping(role: role, finalIndex: finalIndex, size: Int(nextIndex), hasBucket: bucket,
                                 hasOutOfVocabularyIds: outOfVocabulary)
    }

    /// The vocabulary table: one row per final index, sorted by index (`vocab_<role>.parquet`).
    func entries(_ mapping: VocabularyMapping) -> VocabularyEntries {
        // The id of each final index (the bucket has none), then the ids in index order.
        var idOfIndex = [Int32](repeating: -1, count: mapping.size)
        var counts = [Int64](repeating: 0, count: mapping.size)
        var idBytes = 0
        for id in self.counts.indices {
            let index = mapping.finalIndex[id]
            if index == VocabularyMapping.dropped { continue }
            counts[Int(index)] += self.counts[id]
            if !(index == 0 && mapping.hasBucket) && idOfIndex[Int(index)] < 0 {
                idOfIndex[Int(index)] = Int32(id)
                idBytes += table.keyLength(Int32(id))
            }
        }
        var entries = VocabularyEntries(hasBucket: mapping.hasBucket, counts: counts, idBytes: idBytes)
        // In index order the ids are all over the table: where each starts, then its record,
        // are asked for a few ids ahead.
        let distance = 8
        for (index, id) in idOfIndex.enumerated() {
            if index + 2 * distance < idOfIndex.count, idOfIndex[index + 2 * distance] >= 0 {
                table.prefetchStart(idOfIndex[index + 2 * distance])
            }
            if index + distance < idOfIndex.count, idOfIndex[index + distance] >= 0 {
                table.prefetchKey(idOfIndex[index + distance])
            }
            if id < 0 { entries.appendBucket() } else { table.withKey(id) { entries.append(id: $0) } }
        }
        return entries
    }

    private var outOfVocabularyReason: String {
        if isFrozen { return "the vocabulary is frozen" }
        if settings.minCount > 1 { return "min_count \(settings.minCount), max_size \(settings.maxSize)" }
        return "max_size \(settings.maxSize)"
    }

    /// Count descending, then id bytes ascending: the ids in byte order, then a stable radix
    /// sort by count.
    private func byFrequency(_ ids: [Int32]) -> [Int32] {
        let byBytes = byteStringOrder(ids.count, word: { i, from in table.withKey(ids[i]) { bigEndianWord($0, from: from) } },
                                      precedes: { table.keyPrecedes(ids[$0], ids[$1]) }).map { ids[Int($0)] }
        return radixOrder(byBytes.map { UInt64.max - UInt64(counts[Int($0)]) }).map { byBytes[Int($0)] }
    }
}

/// Provisional id → final index, for one role.
struct VocabularyMapping: Sendable {
    /// Marks an id whose rows are dropped (`oov: drop`).
    static let dropped: Int32 = -1
    /// Marks an id not yet assigned during `finalize()`.
    static let outOfVocabulary: Int32 = -2

    let role: Role
    /// Final index per provisional id, or `dropped`.
    let finalIndex: [Int32]
    /// The number of indices, the OOV bucket included.
    let size: Int
    let hasBucket: Bool
    /// Whether some id of the run is out of vocabulary.
    let hasOutOfVocabularyIds: Bool

    /// Whether some id goes to the bucket: then several ids share index 0. Without one, the
    /// mapping is one to one on the ids it keeps.
    var fillsBucket: Bool { hasBucket && hasOutOfVocabularyIds }

    /// Whether some id is `dropped`.
    var dropsIds: Bool { !hasBucket && hasOutOfVocabularyIds }
}

/// The rows of a vocabulary table, indexed by final index.
struct VocabularyEntries: Sendable {
    /// The ids in index order (an empty value for the OOV bucket): one shared column, which
    /// every id column of the output indexes instead of copying.
    private(set) var ids = ByteArrayColumn()
    /// Whether index 0 is the OOV bucket, which has no id.
    let hasBucket: Bool
    var counts: [Int64]

    /// Entries with room for `counts.count` ids of `idBytes` bytes in all: sized once, as the
    /// largest array of a vocabulary, rather than grown by doubling.
    init(hasBucket: Bool, counts: [Int64], idBytes: Int) {
        self.hasBucket = hasBucket
        self.counts = counts
        ids.reserveCapacity(values: counts.count, bytes: idBytes)
    }

    /// The number of indices, the bucket included.
    var count: Int { counts.count }

    mutating func append(id: UnsafeRawBufferPointer) { ids.append(id) }

    mutating func appendBucket() { ids.append(EmptyCollection()) }

    /// Whether `index` has an id (every index but the bucket).
    func hasId(_ index: Int) -> Bool { !(hasBucket && index == 0) }

    /// The bytes of `index`'s id in `ids.bytes`.
    func range(_ index: Int) -> Range<Int> { ids.offsets[index]..<ids.offsets[index + 1] }

    /// The id of `index`, nil for the bucket.
    func id(_ index: Int) -> ArraySlice<UInt8>? { hasId(index) ? ids[index] : nil }

    /// Whether `a`'s id comes before `b`'s in byte order (the bucket's null first).
    func idPrecedes(_ a: Int, _ b: Int) -> Bool {
        guard hasId(a), hasId(b) else { return !hasId(a) && hasId(b) }
        let (x, y) = (range(a), range(b))
        return ids.bytes.withUnsafeBytes { bytesPrecede($0.baseAddress! + x.lowerBound, x.count, $0.baseAddress! + y.lowerBound, y.count) }
    }
}

/// A vocabulary as read from its file: the ids (no bucket) with their indices, in index order.
struct LoadedVocabulary: Sendable {
    var ids: [[UInt8]] = []
    var indices: [Int32] = []
    /// The number of rows in the file, the OOV bucket included.
    var entryCount = 0
}
