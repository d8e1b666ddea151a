import CCSV
import Testing
@testable import Tally

/// A small input and the records the reader must find in it (header: false).
struct FramingCase: CustomTestStringConvertible, Sendable {
    var name: String
    var input: [UInt8]
    /// (text, 1-based line, 0-based byte offset)
    var expected: [ReadRecord]
    var testDescription: String { name }

    init(name: String, input: [UInt8], expected: [(String, Int, Int64)]) {
        self.init(name: name, input: input,
                  records: expected.map { ReadRecord(text: bytes($0.0), line: $0.1, offset: $0.2) })
    }

    init(name: String, input: [UInt8], records: [ReadRecord]) {
        self.name = name
        self.input = input
        self.expected = records
    }
}

let framingCases: [FramingCase] = [
    .init(name: "plain lines", input: bytes("a,b\nc,d\n"), expected: [("a,b", 1, 0), ("c,d", 2, 4)]),
    .init(name: "quoted newline", input: bytes("id,text\n1,\"x\ny\"\n2,z\n"),
          expected: [("id,text", 1, 0), ("1,\"x\ny\"", 2, 8), ("2,z", 4, 16)]),
    .init(name: "doubled quotes", input: bytes("a,\"he said \"\"hi\"\"\"\nb\n"),
          expected: [("a,\"he said \"\"hi\"\"\"", 1, 0), ("b", 2, 19)]),
    .init(name: "CRLF", input: bytes("a\r\nb\r\n"), expected: [("a", 1, 0), ("b", 2, 3)]),
    .init(name: "lone CR", input: bytes("a\rb\rc"), expected: [("a", 1, 0), ("b", 2, 2), ("c", 3, 4)]),
    .init(name: "byte-order mark", input: [0xEF, 0xBB, 0xBF] + bytes("a,b\nc\n"),
          expected: [("a,b", 1, 3), ("c", 2, 7)]),
    .init(name: "blank lines", input: bytes("\n\na\n\r\n\nb\n\n"), expected: [("a", 3, 2), ("b", 6, 7)]),
    .init(name: "final line without newline", input: bytes("a\nb"), expected: [("a", 1, 0), ("b", 2, 2)]),
    .init(name: "unterminated quote", input: bytes("a\n\"b\nc"), expected: [("a", 1, 0), ("\"b\nc", 2, 2)]),
    .init(name: "quote inside an unquoted field", input: bytes("a\"b,c\nd"),
          expected: [("a\"b,c", 1, 0), ("d", 2, 6)]),
    .init(name: "text after a closing quote ends at the line end", input: bytes("\"a\"b\nc\"\nd"),
          expected: [("\"a\"b", 1, 0), ("c\"", 2, 5), ("d", 3, 8)]),
    .init(name: "quoted CR then CRLF", input: bytes("\"a\rb\"\r\nc"), expected: [("\"a\rb\"", 1, 0), ("c", 3, 7)]),
    .init(name: "empty fields", input: bytes(",\n\"\"\n"), expected: [(",", 1, 0), ("\"\"", 2, 2)]),
    .init(name: "only a byte-order mark and blank lines", input: [0xEF, 0xBB, 0xBF] + bytes("\n\r\n"), expected: []),
    .init(name: "part of a byte-order mark is data", input: [0xEF, 0xBB] + bytes("x\n"),
          records: [ReadRecord(text: [0xEF, 0xBB] + bytes("x"), line: 1, offset: 0)]),
    .init(name: "empty input", input: [], expected: []),
    .init(name: "quoted delimiter and a quote opening after a delimiter",
          input: bytes("1,\"a,b\nc\",2\n3,4\n"), expected: [("1,\"a,b\nc\",2", 1, 0), ("3,4", 3, 12)]),
]

/// How the bytes reach the reader.
enum Encoding: CaseIterable, Sendable {
    case plain, oneFrame, framesEveryThreeBytesWithSkippableFrames, framesEveryByte

    func encode(_ input: [UInt8]) -> [UInt8] {
        switch self {
        case .plain: return input
        case .oneFrame: return zstdFrame(input)
        case .framesEveryThreeBytesWithSkippableFrames:
            let pieces = stride(from: 0, to: input.count, by: 3).map { Array(input[$0..<min($0 + 3, input.count)]) }
            return skippableFrame(bytes("seek")) + pieces.flatMap { zstdFrame($0) + skippableFrame([], variant: 0xE) }
        case .framesEveryByte:
            return zstdFrames(input.map { [$0] } + [[]])
        }
    }
}

@Suite struct ReadFramingTests {
    @Test(arguments: framingCases)
    func theReaderGivesTheSameRecordsForEveryBlockSize(_ example: FramingCase) throws {
        let folder = try TemporaryFolder()
        let expected = example.expected
        let count = example.input.count
        for encoding in Encoding.allCases {
            let file = try folder.inputFile("\(encoding).csv", encoding.encode(example.input))
            #expect(file.isZstd == (encoding != .plain))
            var settings: [(Int, Int, Int)] = []
            for size in 1...(count + 2) {
                settings.append((size, size, size))
                settings.append((size, 1 << 20, 1))
                settings.append((1 << 20, size, count + 3 - size))
                settings.append((1, size, 1 << 20))
            }
            for (readSize, chunkSize, target) in settings {
                let options = RecordReader.Options(header: false, targetBatchBytes: target,
                                                   readSize: readSize, chunkSize: chunkSize)
                let result = try readAll(file, options: options)
                #expect(result.records == expected,
                        "\(encoding) read \(readSize) chunk \(chunkSize) target \(target)")
            }
        }
    }

    @Test func batchesAreCutAfterTheRecordThatReachesTheTarget() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("a.csv", bytes("aa\nb\ncc\nd\ne\n"))
        for chunkSize in [1, 2, 3, 100] {
            let reader = try RecordReader(file: file, fileIndex: 0,
                                          options: .init(header: false, targetBatchBytes: 3, chunkSize: chunkSize))
            var batches: [[String]] = []
            while let batch = try reader.next() {
                batches.append((0..<batch.count).map { String(decoding: batch.bytes[batch.range(ofRecord: $0)], as: UTF8.self) })
            }
            #expect(batches == [["aa", "b"], ["cc", "d"], ["e"]])
            #expect(reader.lineCount == 5)
            #expect(reader.recordCount == 5)
        }
    }

    @Test func aFileWithoutRecordsYieldsNoBatch() throws {
        let folder = try TemporaryFolder()
        let reader = try RecordReader(file: try folder.inputFile("empty.csv", []), fileIndex: 3)
        #expect(try reader.header() == nil)
        #expect(try reader.columnPositions([.name("item_id")]) == nil)
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
    }

    /// Random inputs that libcsv accepts in strict mode: the records our framer cuts, each
    /// parsed alone by libcsv, give exactly the rows libcsv finds in the whole stream. (Malformed
    /// inputs are cut by our own rule — a bad record ends at its line end — which the reference
    /// framer of `ReadDifferentialTests` checks.)
    @Test(arguments: 0..<300)
    func framingAgreesWithLibcsvOnRandomInput(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed))
        let alphabet = bytes("a,\" \n\r")
        let input = (0..<Int(generator.next() % 40)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("r.csv", input)
        let records = try readAll(file, options: .init(header: false, targetBatchBytes: 5, chunkSize: 3)).records
        guard NonStrictCSV.isStrictlyValid(input) else { return }
        let perRecord = records.flatMap { NonStrictCSV.rows($0.text) }
        #expect(perRecord == NonStrictCSV.rows(input), "input \(String(decoding: input, as: UTF8.self).debugDescription)")
        #expect(perRecord.count == records.count)
    }
}

/// A small deterministic generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// libcsv in its default non-strict mode, no trimming, over a whole stream: the reference for
/// where records end.
enum NonStrictCSV {
    private struct Rows {
        var rows: [[[UInt8]]] = []
        var fields: [[UInt8]] = []
    }

    /// Whether libcsv in strict mode (`CSV_STRICT | CSV_STRICT_FINI`) parses `input` without error.
    static func isStrictlyValid(_ input: [UInt8]) -> Bool {
        var parser = csv_parser()
        csv_init(&parser, UInt8(CSV_STRICT | CSV_STRICT_FINI))
        defer { csv_free(&parser) }
        csv_set_space_func(&parser) { _ in 0 }
        let parsed = input.withUnsafeBytes { csv_parse(&parser, $0.baseAddress, $0.count, nil, nil, nil) }
        return parsed == input.count && csv_fini(&parser, nil, nil, nil) == 0
    }

    static func rows(_ input: [UInt8]) -> [[[UInt8]]] {
        var parser = csv_parser()
        csv_init(&parser, 0)
        defer { csv_free(&parser) }
        csv_set_space_func(&parser) { _ in 0 }
        var state = Rows()
        let field: @convention(c) (UnsafeMutableRawPointer?, Int, UnsafeMutableRawPointer?) -> Void = { field, length, data in
            let state = data!.assumingMemoryBound(to: Rows.self)
            state.pointee.fields.append(length == 0 ? [] : Array(UnsafeRawBufferPointer(start: field, count: length)))
        }
        let row: @convention(c) (Int32, UnsafeMutableRawPointer?) -> Void = { _, data in
            let state = data!.assumingMemoryBound(to: Rows.self)
            state.pointee.rows.append(state.pointee.fields)
            state.pointee.fields = []
        }
        withUnsafeMutablePointer(to: &state) { pointer in
            input.withUnsafeBytes { _ = csv_parse(&parser, $0.baseAddress, $0.count, field, row, pointer) }
            _ = csv_fini(&parser, field, row, pointer)
        }
        return state.rows
    }
}
