import Glibc
import Foundation
import Testing
import Parquet
@testable import Tally

@Suite struct IdTableTests {
    @Test func idsAreDenseInFirstInsertionOrderAndSurviveGrowth() {
        var table = IdTable(capacity: 1)
        var expected: [String: Int32] = [:]
        for i in 0..<10_000 {
            let key = "id-\(i % 3_000)"
            let (id, inserted) = Array(key.utf8).withUnsafeBytes { table.insert($0) }
            if let known = expected[key] {
                #expect(!inserted && id == known)
            } else {
                #expect(inserted && id == Int32(expected.count))
                expected[key] = id
            }
        }
        #expect(table.count == 3_000)
        for (key, id) in expected {
            #expect(Array(key.utf8).withUnsafeBytes { table.find($0) } == id)
            #expect(Array(table.key(id)) == Array(key.utf8))
        }
        #expect(Array("absent".utf8).withUnsafeBytes { table.find($0) } == nil)

        // Without its index, the table still gives every key by id, in byte order too.
        table.dropIndex()
        #expect(table.count == 3_000)
        for (key, id) in expected {
            #expect(Array(table.key(id)) == Array(key.utf8) && table.keyLength(id) == key.utf8.count)
        }
        #expect(table.keyPrecedes(expected["id-10"]!, expected["id-2"]!))
    }

    /// The prefetching insert gives the ids, table and order that inserting one by one gives,
    /// across growth and with keys already present.
    @Test(arguments: [1, 7, 500, 20_000])
    func insertingKeysAtOnceEqualsInsertingThemOneByOne(batch: Int) {
        var generator = SplitMix(seed: UInt64(batch))
        var bulk = IdTable(capacity: 1), single = IdTable(capacity: 1)
        for _ in 0..<6 {
            let keys = (0..<batch).map { _ in
                (0..<Int(generator.next() % 14)).map { _ in UInt8(ascii: "a") + UInt8(generator.next() % 3) }
            }
            let buffers = keys.map { key in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: key.count, alignment: 1)
                buffer.copyBytes(from: key)
                return UnsafeRawBufferPointer(buffer)
            }
            defer { buffers.forEach { $0.deallocate() } }
            let hashes = buffers.map(idHash)
            let ids = buffers.withUnsafeBufferPointer { keys in hashes.withUnsafeBufferPointer { bulk.insertEach(keys, hashes: $0) } }
            let expected = keys.map { key in key.withUnsafeBytes { single.insert($0).id } }
            #expect(ids == expected)
        }
        #expect(bulk.count == single.count)
        #expect((0..<bulk.count).map { Array(bulk.key(Int32($0))) } == (0..<single.count).map { Array(single.key(Int32($0))) })
        #expect(bulk.keyEnds == single.keyEnds && bulk.hashes == single.hashes)
        for id in 0..<single.count { #expect(single.withKey(Int32(id)) { bulk.find($0) } == Int32(id)) }
    }

    @Test func theEmptyIdAndLongIdsAreKeysLikeAnyOther() {
        var table = IdTable()
        let long = [UInt8](repeating: 0xE2, count: 1_000)
        let a = [UInt8]().withUnsafeBytes { table.insert($0).id }
        let b = long.withUnsafeBytes { table.insert($0).id }
        #expect(a == 0 && b == 1)
        #expect(long.withUnsafeBytes { table.find($0) } == 1)
    }

    /// The inline comparison of short ids agrees with memcmp for every length up to past its
    /// 16-byte limit, with a difference at every position, reading nothing past the bytes.
    @Test func bytesEqualAgreesWithMemcmpAtEveryLengthAndPosition() {
        for count in 0...40 {
            // Exactly `count` bytes each, so that a read past them is caught by the sanitizers.
            let a = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
            let b = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 1)
            defer { a.deallocate(); b.deallocate() }
            for i in 0..<count { a.storeBytes(of: UInt8(i &* 37 & 0xFF), toByteOffset: i, as: UInt8.self) }
            b.copyMemory(from: a, byteCount: count)
            #expect(bytesEqual(a, b, count: count), "length \(count)")
            for position in 0..<count {
                let original = b.load(fromByteOffset: position, as: UInt8.self)
                b.storeBytes(of: original ^ 0x40, toByteOffset: position, as: UInt8.self)
                #expect(!bytesEqual(a, b, count: count), "length \(count), difference at \(position)")
                b.storeBytes(of: original, toByteOffset: position, as: UInt8.self)
            }
        }
    }

    /// Golden values, computed by a separate Python implementation of `byteHash`'s description:
    /// the hash must never depend on the process (unlike Swift's `Hasher`), nor change between
    /// versions, since table layouts and the state cache's partials rest on it. The lengths cover
    /// the empty id, a tail alone, whole words alone, and words with 4-, 2- and 1-byte tails.
    @Test(arguments: [
        ("", 0xEFD0_1F60_BA99_2926 as UInt64, 0x5549_3646 as UInt32),
        ("abc", 0xBFD9_315F_473F_8238, 0xF8E6_B367),
        ("sku-0000", 0x7606_32A9_FD66_B875, 0x8B60_8ADC),
        ("sku-0000000b", 0x4596_05A3_CB93_582B, 0x8E05_5D88),
        ("user-000000123", 0x058B_453E_DE5F_1209, 0xDBD4_5737),
        ("item-xxxxxxxxxxxxxxxxxxxxxxxxx", 0x167C_F052_396B_039E, 0x2F17_F3CC),
    ])
    func theHashIsFixed(id: String, hash: UInt64, folded: UInt32) {
        #expect(Array(id.utf8).withUnsafeBytes(byteHash) == hash)
        #expect(Array(id.utf8).withUnsafeBytes(idHash) == folded)
    }
}

@Suite struct BatchIdsTests {
    /// `keys` laid out in one buffer of `pool`, comma after comma, and a batch table of them
    /// (line `10 + i` for key `i` when `lines`).
    static func table(_ keys: [[UInt8]], pool: BufferPool = BufferPool(limit: 1), lines: Bool = true) -> BatchIds {
        var starts: [Int] = [], end = 0
        for key in keys { starts.append(end); end += key.count + 1 }
        let storage = pool.take(capacity: end)
        for (key, start) in zip(keys, starts) {
            (storage.base + start).copyMemory(from: key, byteCount: key.count)
            storage.base.storeBytes(of: UInt8(ascii: ","), toByteOffset: start + key.count, as: UInt8.self)
        }
        let bytes = BatchBytes(storage, count: end)
        return bytes.withUnsafeBytes { buffer in
            BatchIds(rows: keys.count, of: bytes, key: { UnsafeRawBufferPointer(rebasing: buffer[starts[$0]..<starts[$0] + keys[$0].count]) },
                     firstLine: lines ? { 10 + $0 } : nil)
        }
    }

    /// Random short keys, some repeated: the batch's table gives the ids an `IdTable` gives,
    /// counts each id's rows, keeps each id's first line, and reads every key back from the
    /// batch's bytes, which it keeps alive after the caller lets go.
    @Test(arguments: [0, 1, 9, 3_000])
    func idsRowsAndLinesMatchAnIdTable(rows: Int) {
        var generator = SplitMix(seed: UInt64(rows) + 1)
        let keys = (0..<rows).map { _ in
            (0..<1 + Int(generator.next() % 20)).map { _ in UInt8(ascii: "a") + UInt8(generator.next() % 2) }
        }
        let pool = BufferPool(limit: 1)
        let ids = Self.table(keys, pool: pool)
        var reference = IdTable(), rowsPerId: [Int64] = [], lines: [Int] = []
        for (row, key) in keys.enumerated() {
            let (id, inserted) = key.withUnsafeBytes { reference.insert($0) }
            if inserted { rowsPerId.append(0); lines.append(10 + row) }
            rowsPerId[Int(id)] += 1
            #expect(ids.rowIds[row] == id)
        }
        #expect(ids.count == reference.count && ids.rows == rowsPerId && ids.firstLine == lines)
        #expect(ids.hashes == reference.hashes)
        // Had the table let go of the batch's buffer, the pool would hand it out again here.
        let next = pool.take(capacity: 1)
        next.base.initializeMemory(as: UInt8.self, repeating: 0, count: next.capacity)
        for id in 0..<ids.count {
            #expect(ids.withKey(Int32(id)) { Array($0) } == Array(reference.key(Int32(id))))
        }
        ids.withKeys { keys in
            #expect(keys.map { Array($0) } == (0..<reference.count).map { Array(reference.key(Int32($0))) })
        }
    }

    /// Two keys with the same 32-bit hash are told apart by their bytes; the empty key is a key.
    @Test func keysWithTheSameHashAndTheEmptyKeyGetTheirOwnIds() {
        let (a, b) = (Array("id-122991".utf8), Array("id-141746".utf8))
        #expect(a.withUnsafeBytes(idHash) == b.withUnsafeBytes(idHash))
        let ids = Self.table([a, b, [], b, a, []], lines: false)
        #expect(ids.rowIds == [0, 1, 2, 1, 0, 2])
        #expect(ids.count == 3 && ids.rows == [2, 2, 2] && ids.firstLine.isEmpty)
        #expect(ids.withKey(1) { Array($0) } == b && ids.withKey(2) { $0.count } == 0)
    }

    /// A file's ids take each batch's in order: new ids after the known ones, rows added up
    /// (unless the role is the dense counter's), the first line of each id kept from the batch
    /// that brought it.
    @Test(arguments: [true, false])
    func fileIdsAbsorbBatchesInOrder(addingRows: Bool) {
        let keys = { (names: [String]) in names.map { Array($0.utf8) } }
        var file = FileIds()
        let first = Self.table(keys(["b", "a", "b"])), second = Self.table(keys(["c", "a", "c", "d"]))
        #expect(file.absorb(first, addingRows: addingRows) == [0, 1])
        #expect(file.absorb(second, addingRows: addingRows) == [2, 1, 3])
        #expect((0..<file.table.count).map { String(decoding: file.table.key(Int32($0)), as: UTF8.self) } == ["b", "a", "c", "d"])
        #expect(file.rows == (addingRows ? [2, 2, 2, 1] : []))
        #expect(file.firstLine == [10, 11, 10, 13])
    }
}

@Suite struct VocabularyTests {
    static func settings(order: Pipeline.VocabularySettings.Order = .frequency, minCount: Int = 1, maxSize: Int = 0,
                         oov: Pipeline.VocabularySettings.OOV = .bucket, mode: Pipeline.VocabularySettings.Mode = .extend)
        -> Pipeline.VocabularySettings {
        Pipeline.VocabularySettings(path: nil, mode: mode, order: order, minCount: minCount, maxSize: maxSize, oov: oov, location: nil)
    }

    static func observe(_ vocabulary: inout Vocabulary, _ ids: [String]) {
        for id in ids { _ = Array(id.utf8).withUnsafeBytes { vocabulary.observe($0, hash: idHash($0), rows: 1) } }
    }

    static func table(_ vocabulary: Vocabulary) throws -> [String?] {
        let entries = vocabulary.entries(try vocabulary.finalize())
        return (0..<entries.count).map { entries.id($0).map { String(decoding: $0, as: UTF8.self) } }
    }

    @Test func frequencyOrderIsCountDescendingThenIdBytes() throws {
        var vocabulary = Vocabulary(role: .item, settings: Self.settings(), loaded: LoadedVocabulary())
        Self.observe(&vocabulary, ["b", "a", "c", "c", "b", "é", "Z"])
        #expect(try Self.table(vocabulary) == [nil, "b", "c", "Z", "a", "é"])
    }

    @Test func firstSeenOrderKeepsTheInputOrder() throws {
        var vocabulary = Vocabulary(role: .item, settings: Self.settings(order: .firstSeen, oov: .drop), loaded: LoadedVocabulary())
        Self.observe(&vocabulary, ["b", "a", "c", "c", "b"])
        #expect(try Self.table(vocabulary) == ["b", "a", "c"])
    }

    @Test func minCountAndMaxSizeSendTheRestToTheBucket() throws {
        var vocabulary = Vocabulary(role: .item, settings: Self.settings(minCount: 2, maxSize: 3), loaded: LoadedVocabulary())
        Self.observe(&vocabulary, ["a", "b", "b", "c", "c", "c", "d", "d", "e"])
        let mapping = try vocabulary.finalize()
        #expect(try Self.table(vocabulary) == [nil, "c", "b"])
        let entries = vocabulary.entries(mapping)
        #expect(entries.counts == [4, 3, 2])   // a, d, d, e went to the bucket
    }

    @Test func loadedIdsKeepTheirIndexAndNewIdsFollow() throws {
        let loaded = LoadedVocabulary(ids: [Array("x".utf8), Array("y".utf8)], indices: [1, 2], entryCount: 3)
        var vocabulary = Vocabulary(role: .item, settings: Self.settings(), loaded: loaded)
        Self.observe(&vocabulary, ["new", "y", "new"])
        #expect(try Self.table(vocabulary) == [nil, "x", "y", "new"])
    }

    @Test func aFrozenVocabularyWithOOVFailNamesTheFirstUnknownId() throws {
        let loaded = LoadedVocabulary(ids: [Array("x".utf8)], indices: [0], entryCount: 1)
        var vocabulary = Vocabulary(role: .item, settings: Self.settings(oov: .fail, mode: .frozen), loaded: loaded)
        Self.observe(&vocabulary, ["x", "q", "r"])
        let error = try #require(throws: TallyError.self) { try vocabulary.finalize() }
        #expect(error.kind == .badInput)
        #expect(error.message.contains("item id 'q' is out of vocabulary"))
    }

    /// A vocabulary file that lists an id twice is refused: the second index would never be
    /// used, and the ids after it would be numbered wrongly.
    @Test func aVocabularyFileWithAnIdTwiceIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/items.parquet"
        let writer = try ParquetWriter(path: path, columns: VocabularyFile.columns)
        try writer.append([ColumnBatch(.int32([0, 1, 2, 3])), ColumnBatch(.byteArray(ByteArrayColumn(["", "a", "b", "a"])), validity: [false, true, true, true]),
                           ColumnBatch(.int64([0, 1, 1, 1]))])
        _ = try writer.close()
        let error = try #require(throws: TallyError.self) {
            try VocabularyFile.read(path: path, displayPath: "vocab/items.parquet", oov: .bucket)
        }
        #expect(error.kind == .badInput)
        #expect(error.description == "vocab/items.parquet: error: [tokenize] id 'a' appears twice, at indices 1 and 3", "\(error.description)")
    }

    /// Every row has an index: a null one is refused, not read as whatever the column holds.
    @Test func aVocabularyFileWithANullIndexIsRefused() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/items.parquet"
        let writer = try ParquetWriter(path: path, columns: [ParquetColumn("index", .int32, nullable: true)] + VocabularyFile.columns.dropFirst())
        try writer.append([ColumnBatch(.int32([0, 1]), validity: [false, true]), ColumnBatch(.byteArray(ByteArrayColumn(["", "a"])), validity: [false, true]),
                           ColumnBatch(.int64([0, 1]))])
        _ = try writer.close()
        let error = try #require(throws: TallyError.self) {
            try VocabularyFile.read(path: path, displayPath: "vocab/items.parquet", oov: .bucket)
        }
        #expect(error.description == "vocab/items.parquet: error: [tokenize] row 0 has a null index", "\(error.description)")
    }

    /// A vocabulary file without rows has no OOV bucket, which `oov: bucket` needs: a file cut
    /// to nothing would otherwise send every row to a new bucket. Under `drop` it is empty.
    @Test func aVocabularyFileWithoutRowsHasNoBucket() throws {
        let folder = try TemporaryFolder()
        let path = folder.path + "/items.parquet"
        let writer = try ParquetWriter(path: path, columns: VocabularyFile.columns)
        try writer.append([ColumnBatch(.int32([])), ColumnBatch(.byteArray(ByteArrayColumn([])), validity: []), ColumnBatch(.int64([]))])
        _ = try writer.close()
        let error = try #require(throws: TallyError.self) {
            try VocabularyFile.read(path: path, displayPath: "vocab/items.parquet", oov: .bucket)
        }
        #expect(error.kind == .badInput && error.message.contains("no rows, not even the OOV bucket"))
        #expect(try VocabularyFile.read(path: path, displayPath: "vocab/items.parquet", oov: .drop).entryCount == 0)
    }
}

@Suite struct FieldValueTests {
    static func bytes(_ text: String, _ body: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        Array(text.utf8).withUnsafeBytes(body)
    }

    @Test(arguments: ["12", "-3.5", "1e-3", "0.000", "+7", "1.", ".5", "-.5", "-0", "9007199254740993", "12345678901234567"])
    func decimalNumbersParse(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes(FieldValues.parseDouble) == Double(text))
    }

    @Test(arguments: ["", " 1", "1 ", "nan", "inf", "0x10", "1,5", "abc", "1e999", ".", "-", "+", "-.", "1.2.3", "1..2", "12a", "--1"])
    func anythingElseIsUnparsable(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes(FieldValues.parseDouble) == nil)
    }

    @Test func utf8ValidationRejectsMalformedSequences() {
        #expect([UInt8]("héllo ω 🎉".utf8).withUnsafeBytes(FieldValues.isValidUTF8))
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xE2, 0x82], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80]] {
            #expect(!bad.withUnsafeBytes(FieldValues.isValidUTF8))
        }
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2026-11-26T10:00:00Z", 1_795_687_200.0),
        ("2026-11-26 11:00:00+01:00", 1_795_687_200.0),
        ("2026-11-26T10:00:00.25Z", 1_795_687_200.25),
        ("2026-11-26", 1_795_651_200.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
    ])
    func iso8601TimesParse(_ text: String, _ seconds: Double) {
        #expect(Array(text.utf8).withUnsafeBytes({ ISO8601.parse($0, zoneRequired: false) }) == seconds)
    }

    @Test(arguments: ["2026-13-01", "2026-02-30", "2026-11-26T25:00:00Z", "2026-11-26T10:00:00Q", "26-11-2026", ""])
    func malformedTimesDoNotParse(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBytes({ ISO8601.parse($0, zoneRequired: false) }) == nil)
    }
}

@Suite struct DecimalParsingTests {
    /// The fast path must round exactly as strtod does, on every shape of decimal number.
    @Test func theFastPathRoundsExactlyLikeStrtod() {
        var state: UInt64 = 0x1234_5678_9ABC_DEF1
        func next(_ bound: Int) -> Int {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return Int(state % UInt64(bound))
        }
        for _ in 0..<200_000 {
            var text = next(4) == 0 ? "-" : ""
            text += String((0..<(1 + next(17))).map { _ in Character(String(next(10))) })
            if next(3) > 0 { text += "." + String((0..<next(20)).map { _ in Character(String(next(10))) }) }
            if next(10) == 0 { text += "e\(next(40) - 20)" }
            let expected = strtod(text, nil)
            let parsed = Array(text.utf8).withUnsafeBytes(FieldValues.parseDouble)
            #expect(parsed?.bitPattern == expected.bitPattern, "\(text)")
            if parsed?.bitPattern != expected.bitPattern { return }
        }
    }
}
