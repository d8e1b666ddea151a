import Foundation
import Testing
@testable import Tally

/// Proofs for the read stage's fast paths: on random inputs (quotes, delimiters, CR/LF/CRLF,
/// byte-order marks, blank lines, empty and huge fields) and every way of cutting the stream,
/// the reader gives the records, lines and byte offsets of an independent reference framer, and
/// the direct field split gives exactly what libcsv gives (fields and problems).
@Suite struct ReadDifferentialTests {
    // MARK: Inputs

    /// A CSV-ish input built from random records: quoted and unquoted fields, escaped quotes,
    /// quoted line ends, stray quotes, text after closing quotes, unterminated quotes, every
    /// kind of line end, blank lines and an optional byte-order mark.
    static func structuredInput(_ generator: inout SplitMix, delimiter: UInt8 = 0x2C, hugeField: Int = 0) -> [UInt8] {
        func pick<T>(_ options: [T]) -> T { options[Int(generator.next() % UInt64(options.count))] }
        func text(_ alphabet: [UInt8], _ maximum: Int) -> [UInt8] {
            (0..<Int(generator.next() % UInt64(maximum + 1))).map { _ in pick(alphabet) }
        }
        let plain = bytes("ab1 \t") + [0xC3, 0xA9]
        let lineEnds = [bytes("\n"), bytes("\r\n"), bytes("\r")]
        var out: [UInt8] = generator.next() % 4 == 0 ? [0xEF, 0xBB, 0xBF] : []
        let records = Int(generator.next() % 8)
        for record in 0..<records {
            if generator.next() % 5 == 0 { out += pick(lineEnds) }             // a blank line
            let fields = 1 + Int(generator.next() % 5)
            for field in 0..<fields {
                if field > 0 { out.append(delimiter) }
                switch generator.next() % 10 {
                case 0: break                                                   // empty
                case 1: out += bytes("\"") + text(plain + [delimiter, 0x22, 0x22], 6) + bytes("\"")   // quoted
                case 2: out += bytes("\"") + text(plain, 3) + pick(lineEnds) + text(plain, 3) + bytes("\"")
                case 3: out += bytes("\"\"\"") + text(plain, 3) + bytes("\"\"\"")   // escaped quotes
                case 4: out += text(plain, 3) + bytes("\"") + text(plain, 3)     // stray quote
                case 5: out += bytes("\"") + text(plain, 3) + bytes("\"") + text(bytes("x "), 2)   // text after
                default: out += text(plain, 8)
                }
            }
            if hugeField > 0 && record == 0 {
                out.append(delimiter)
                let quoted = generator.next() % 2 == 0
                if quoted { out.append(0x22) }
                out += (0..<hugeField).map { UInt8(0x61 + $0 % 26) }
                if quoted { out.append(0x22) }
            }
            if record < records - 1 || generator.next() % 2 == 0 { out += pick(lineEnds) }
        }
        if generator.next() % 6 == 0 { out += bytes("\"open") + pick(lineEnds) + bytes("x") }   // unterminated
        return out
    }

    /// Bytes drawn from a small alphabet rich in the characters that matter.
    static func soupInput(_ generator: inout SplitMix, length: Int) -> [UInt8] {
        let alphabet = bytes("a,,\"\" \n\r\r\n\t")
        var out = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        if generator.next() % 5 == 0 { out = [0xEF, 0xBB, 0xBF] + out }
        return out
    }

    // MARK: The reference framer

    /// Records as the spec defines them, written independently of `RecordFramer`: field by field
    /// over the whole input, no chunks, no fast path.
    static func referenceRecords(_ input: [UInt8], delimiter: UInt8 = 0x2C) -> (records: [ReadRecord], lineCount: Int) {
        let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D, quote: UInt8 = 0x22
        let hasMark = input.starts(with: [0xEF, 0xBB, 0xBF])
        var i = hasMark ? 3 : 0
        var line = 1
        var records: [ReadRecord] = []
        func isLineEnd(_ byte: UInt8) -> Bool { byte == lf || byte == cr }
        /// Steps over the line end at `i` (CRLF counts once).
        func skipLineEnd() {
            i += input[i] == cr && i + 1 < input.count && input[i + 1] == lf ? 2 : 1
            line += 1
        }
        while i < input.count {
            if isLineEnd(input[i]) { skipLineEnd(); continue }
            let start = i, startLine = line
            fields: while true {
                if i < input.count && input[i] == quote {
                    // A quoted field, up to a closing quote; `""` is a quote, and other text
                    // after a closing quote continues the field unquoted, to a delimiter or a
                    // line end.
                    i += 1
                    while i < input.count {
                        if input[i] == quote {
                            if i + 1 < input.count && input[i + 1] == quote { i += 2; continue }
                            i += 1
                            while i < input.count && input[i] != delimiter && !isLineEnd(input[i]) { i += 1 }
                            break
                        } else if isLineEnd(input[i]) {
                            skipLineEnd()
                        } else {
                            i += 1
                        }
                    }
                } else {
                    while i < input.count && input[i] != delimiter && !isLineEnd(input[i]) { i += 1 }
                }
                if i < input.count && input[i] == delimiter { i += 1; continue fields }
                break
            }
            records.append(ReadRecord(text: Array(input[start..<i]), line: startLine, offset: Int64(start)))
            if i < input.count { skipLineEnd() }
        }
        let dataEnd = hasMark ? 3 : 0
        let lastIsData = input.count > dataEnd && !isLineEnd(input[input.count - 1])
        return (records, line - 1 + (lastIsData ? 1 : 0))
    }

    // MARK: Helpers

    /// Everything the reader hands out for `file`, batch by batch.
    struct Framed: Equatable {
        var header: Header?
        var records: [ReadRecord]
        var recordsPerBatch: [Int]
        var lineCount: Int
    }

    static func frame(_ file: InputFile, options: RecordReader.Options) throws -> Framed {
        let reader = try RecordReader(file: file, fileIndex: 0, options: options)
        let header = try reader.header()
        var batches: [RecordBatch] = []
        while let batch = try reader.next() { batches.append(batch) }
        var records: [ReadRecord] = []
        for batch in batches {
            for record in 0..<batch.count {
                records.append(ReadRecord(text: Array(batch.bytes[batch.range(ofRecord: record)]),
                                          line: batch.line(ofRecord: record), offset: batch.byteOffset(ofRecord: record)))
            }
        }
        return Framed(header: header, records: records, recordsPerBatch: batches.map(\.count), lineCount: reader.lineCount)
    }

    /// One record's fields or problem.
    typealias Fields = Result<[[UInt8]], RecordProblem>

    /// Parses every batch of `file` with the direct split on and off; returns both, and checks
    /// that unquoted fields are not copied.
    static func parseBothWays(_ file: InputFile, options: RecordReader.Options) throws -> (fast: [Fields], libcsv: [Fields]) {
        let reader = try RecordReader(file: file, fileIndex: 0, options: options)
        let fastParser = CSVFieldParser(delimiter: options.delimiter)
        let libcsvParser = CSVFieldParser(delimiter: options.delimiter, splitsUnquotedRecordsDirectly: false)
        // Keep every parsed batch until the end: buffers must not be reused while in use.
        var parsed: [(ParsedBatch, ParsedBatch)] = []
        while let batch = try reader.next() {
            let fast = try fastParser.parse(batch)
            parsed.append((fast, try libcsvParser.parse(batch)))
            if !batch.bytes.contains(0x22) { #expect(fast.fieldBytes.storage === batch.bytes.storage) }
        }
        func fields(_ batch: ParsedBatch) -> [Fields] {
            let viaPointers = batch.withFields { view in
                (0..<view.count).map { record in
                    (0..<view.fieldCount(ofRecord: record)).map { Array(view.field($0, ofRecord: record)) }
                }
            }
            return (0..<batch.count).map { record in
                if let problem = batch.problem(ofRecord: record) {
                    #expect(batch.fieldCount(ofRecord: record) == 0 && viaPointers[record].isEmpty)
                    return .failure(problem)
                }
                let fields = (0..<batch.fieldCount(ofRecord: record)).map { Array(batch.field($0, ofRecord: record)) }
                #expect(viaPointers[record] == fields)
                return .success(fields)
            }
        }
        return (parsed.flatMap { fields($0.0) }, parsed.flatMap { fields($0.1) })
    }

    static func describe(_ input: [UInt8]) -> String {
        input.count > 300 ? "\(input.count) bytes" : String(decoding: input, as: UTF8.self).debugDescription
    }

    // MARK: Framing

    /// Every chunk size from 1 byte to the whole input, plain and zstd, three batch targets:
    /// the records, lines, byte offsets and line count of the reference framer, and the same
    /// batch cuts whatever the chunking.
    @Test(arguments: 0..<400)
    func framingMatchesTheReferenceForEveryChunking(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) &* 7919)
        let input = seed % 2 == 0 ? Self.structuredInput(&generator)
                                  : Self.soupInput(&generator, length: Int(generator.next() % 48))
        let expected = Self.referenceRecords(input)
        let folder = try TemporaryFolder()
        let files = [try folder.inputFile("p.csv", input), try folder.inputFile("z.csv", zstdFrame(input))]
        for target in [1, 9, 1 << 20] {
            var cuts: [Int]?
            for file in files {
                for chunk in 1...(input.count + 1) {
                    let options = RecordReader.Options(header: false, targetBatchBytes: target,
                                                       readSize: 1 + chunk % 5, chunkSize: chunk)
                    let framed = try Self.frame(file, options: options)
                    #expect(framed.records == expected.records, "\(Self.describe(input)) target \(target) chunk \(chunk)")
                    #expect(framed.lineCount == expected.lineCount, "\(Self.describe(input)) chunk \(chunk)")
                    if let cuts { #expect(framed.recordsPerBatch == cuts) } else { cuts = framed.recordsPerBatch }
                }
            }
        }
    }

    /// With `header: true` the first reference record is the header and the rest are the records.
    @Test(arguments: 0..<100)
    func theHeaderIsTheFirstReferenceRecord(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) &* 104_729)
        let input = Self.structuredInput(&generator)
        let expected = Self.referenceRecords(input).records
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("h.csv", input)
        for chunk in [1, 2, 3, 5, 64 << 10] {
            let reader = try RecordReader(file: file, fileIndex: 0, options: .init(targetBatchBytes: 4, chunkSize: chunk))
            let header: Header?
            do {
                header = try reader.header()
            } catch let error as TallyError {
                // A header with a quote error is the only way to fail here.
                #expect(error.kind == .badInput && "\(error)".contains("bad header"))
                continue
            }
            #expect(header?.line == expected.first?.line)
            var records: [ReadRecord] = []
            while let batch = try reader.next() {
                for r in 0..<batch.count {
                    records.append(ReadRecord(text: Array(batch.bytes[batch.range(ofRecord: r)]),
                                              line: batch.line(ofRecord: r), offset: batch.byteOffset(ofRecord: r)))
                }
            }
            #expect(records == Array(expected.dropFirst()), "\(Self.describe(input)) chunk \(chunk)")
        }
    }

    /// Records far longer than a chunk and than a batch buffer, quoted or not, in every position.
    @Test(arguments: 0..<12)
    func hugeFieldsFrameAndSplitLikeTheReference(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) &* 31337)
        let input = Self.structuredInput(&generator, hugeField: [70_000, 150_000, 300_000][seed % 3])
        let expected = Self.referenceRecords(input)
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("huge.csv.zst", zstdFrame(input))
        for (chunk, target) in [(64 << 10, 1 << 20), (4093, 5), (1 << 20, 64), (100_003, 1)] {
            let options = RecordReader.Options(header: false, targetBatchBytes: target, chunkSize: chunk)
            let framed = try Self.frame(file, options: options)
            #expect(framed.records == expected.records, "chunk \(chunk) target \(target)")
            #expect(framed.lineCount == expected.lineCount)
            let (fast, libcsv) = try Self.parseBothWays(file, options: options)
            #expect(fast == libcsv)
        }
    }

    /// Mostly blank lines: batches are closed by the 4 × target rule, the same way for every
    /// chunking (whichever path, fast or byte at a time, frames each record), and every record
    /// is still found. The number of blank lines sweeps every alignment of a CRLF against the
    /// rule's threshold.
    @Test(arguments: 2..<40)
    func batchesOfMostlyBlankLinesAreCutByContent(secondRecordStart: Int) throws {
        var input = bytes("a\n") + [UInt8](repeating: 0x0A, count: secondRecordStart - 2) + bytes("b\r\nc\n")
        for k in 0..<12 {
            input += [UInt8](repeating: k % 3 == 0 ? 0x0D : 0x0A, count: secondRecordStart % (k + 2) + k)
            input += bytes(k % 2 == 0 ? "b\r\n" : "\"\"\r\n")
        }
        let expected = Self.referenceRecords(input)
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("blank.csv", input)
        var cuts: [Int]?
        for chunk in [1, 2, 3, 7, 1 << 16] {
            let framed = try Self.frame(file, options: .init(header: false, targetBatchBytes: 9, chunkSize: chunk))
            #expect(framed.records == expected.records)
            if let cuts { #expect(framed.recordsPerBatch == cuts, "chunk \(chunk)") } else { cuts = framed.recordsPerBatch }
        }
    }

    // MARK: Fields

    /// The direct split and libcsv give the same fields and problems, for batches of every size.
    @Test(arguments: 0..<400)
    func theDirectSplitGivesWhatLibcsvGives(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) &* 15_485_863)
        let delimiter: UInt8 = [0x2C, 0x2C, 0x09, 0x3B, 0x7C][seed % 5]
        let input = seed % 3 == 2 ? Self.soupInput(&generator, length: Int(generator.next() % 80))
                                  : Self.structuredInput(&generator, delimiter: delimiter)
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("f.csv", input)
        var reference: [Fields]?
        for target in [1, 3, 16, 1 << 20] {
            for chunk in [1, 5, 64 << 10] {
                let options = RecordReader.Options(delimiter: delimiter, header: false, targetBatchBytes: target, chunkSize: chunk)
                let (fast, libcsv) = try Self.parseBothWays(file, options: options)
                #expect(fast == libcsv, "\(Self.describe(input)) delimiter \(delimiter) target \(target)")
                if let reference { #expect(fast == reference) } else { reference = fast }
            }
        }
        // And a record without quotes is its bytes split at every delimiter.
        let records = Self.referenceRecords(input, delimiter: delimiter).records
        #expect(records.count == reference?.count)
        for (record, fields) in zip(records, reference ?? []) where !record.text.contains(0x22) {
            #expect(try fields.get() == record.text.split(separator: delimiter, omittingEmptySubsequences: false).map(Array.init))
        }
    }

    /// Quote-free batches of every length: each record's last word read ends at every offset
    /// from the buffer's end (the padding), and single-field, empty-field and long records.
    @Test func unquotedRecordsOfEveryLengthSplitExactly() throws {
        var generator = SplitMix(seed: 99)
        for length in 1...40 {
            var input: [UInt8] = []
            var expected: [[[UInt8]]] = []
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let record = (0..<length).map { _ in bytes("xy,,z")[Int(generator.next() % 5)] }
                input += record + bytes("\n")
                expected.append(record.split(separator: 0x2C, omittingEmptySubsequences: false).map(Array.init))
            }
            if generator.next() % 2 == 0 { input.removeLast() }
            let folder = try TemporaryFolder()
            let file = try folder.inputFile("u.csv", input)
            for target in [1, 1 << 20] {
                let (fast, libcsv) = try Self.parseBothWays(file, options: .init(header: false, targetBatchBytes: target))
                #expect(fast == libcsv)
                #expect(fast == expected.map { Fields.success($0) }, "length \(length)")
            }
        }
    }

    // MARK: Limits and buffers

    @Test func aRecordLongerThanTheLimitIsAnErrorAtItsLine() throws {
        let folder = try TemporaryFolder()
        let long = String(repeating: "x", count: 300)
        for (name, data) in [("a.csv", bytes("h\nok\n\n\(long)\nok\n")), ("a.csv.zst", zstdFrame(bytes("h\nok\n\n\(long)")))] {
            for chunk in [1, 7, 64 << 10] {
                var options = RecordReader.Options(targetBatchBytes: 8, chunkSize: chunk)
                options.maximumRecordBytes = 299
                let reader = try RecordReader(file: try folder.inputFile(name, data), fileIndex: 0, options: options)
                let error = try #require(throws: TallyError.self) { while try reader.next() != nil {} }
                #expect("\(error)" == "\(name):4: error: [read] record longer than 299 bytes")
                #expect(error.kind.exitCode == 65 && error.location?.byteOffset == 6)
                #expect(throws: TallyError.self) { _ = try reader.next() }
                options.maximumRecordBytes = 300
                let fine = try RecordReader(file: try folder.inputFile(name, data), fileIndex: 0, options: options)
                var count = 0
                while let batch = try fine.next() { count += batch.count }
                #expect(count == (name.hasSuffix("zst") ? 2 : 3))
            }
        }
    }

    /// Each batch says how far into the file (on disk) the reader was: rising, up to the whole
    /// file at the last batch, for a plain file and for a zstd one (whose decoder reads a block
    /// ahead: hence a file of many blocks, of digits that barely compress).
    @Test func batchesSayHowFarIntoTheFileTheyCome() throws {
        let folder = try TemporaryFolder()
        var generator = SplitMix(seed: 5)
        let text = "h\n" + (0..<100_000).map { _ in "\(generator.next() % 1_000_000_007),\(generator.next() % 7)\n" }.joined()
        for (name, data) in [("a.csv", bytes(text)), ("a.csv.zst", zstdFrame(bytes(text)))] {
            let reader = try RecordReader(file: try folder.inputFile(name, data), fileIndex: 0,
                                          options: .init(targetBatchBytes: 16 << 10, readSize: 4 << 10, chunkSize: 4 << 10))
            var fractions: [Double] = []
            while let batch = try reader.next() { fractions.append(batch.fileFraction) }
            #expect(fractions.count > 10, "\(name)")
            #expect(zip(fractions, fractions.dropFirst()).allSatisfy { $0 <= $1 } && fractions.first! > 0, "\(name)")
            #expect(fractions.last == 1 && fractions[fractions.count / 2] < 0.9, "\(name): \(fractions)")
        }
    }

    @Test func aBatchTargetAbove64MiBIsAUsageError() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("a.csv", bytes("a\n"))
        let error = try #require(throws: TallyError.self) {
            _ = try RecordReader(file: file, fileIndex: 0, options: .init(targetBatchBytes: (64 << 20) + 1))
        }
        #expect(error.kind == .usage)
        #expect(try RecordReader(file: file, fileIndex: 0, options: .init(header: false, targetBatchBytes: 64 << 20)).next()?.count == 1)
    }

    /// Batches and parsed batches stay intact while the reader and the parser go on (and recycle
    /// buffers), and when they are parsed on other threads.
    @Test func batchesOutliveTheReaderAndCrossThreads() throws {
        var input = bytes("id,text\n")
        for k in 0..<20_000 { input += bytes(k % 97 == 0 ? "\(k),\"q\"\"\(k)\"\n" : "\(k),t\(k)\n") }
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("many.csv.zst", zstdFrame(input))
        let batches: [RecordBatch] = try {
            var batches: [RecordBatch] = []
            let reader = try RecordReader(file: file, fileIndex: 0, options: .init(targetBatchBytes: 1000, chunkSize: 300))
            while let batch = try reader.next() { batches.append(batch) }
            return batches
        }()
        #expect(batches.count > 100)
        nonisolated(unsafe) var results: [Int: [String]] = [:]
        let lock = NSLock()  // not Synchronization.Mutex: ThreadSanitizer cannot see it on Linux
        DispatchQueue.concurrentPerform(iterations: 4) { part in
            let parser = CSVFieldParser()
            for index in stride(from: part, to: batches.count, by: 4) {
                let parsed = try! parser.parse(batches[index])
                let texts = (0..<parsed.count).map { String(decoding: parsed.field(1, ofRecord: $0), as: UTF8.self) }
                lock.withLock { results[index] = texts }
            }
        }
        let all = (0..<batches.count).flatMap { results[$0]! }
        #expect(all == (0..<20_000).map { $0 % 97 == 0 ? "q\"\($0)" : "t\($0)" })
        let lines = batches.flatMap { batch in (0..<batch.count).map { batch.line(ofRecord: $0) } }
        #expect(lines == Array(2...20_001))
    }
}
