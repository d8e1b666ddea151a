import Testing
@testable import Tally

@Suite struct ReadFieldParserTests {
    private typealias Parsed = Result<[[UInt8]], RecordProblem>

    private func parse(_ text: [UInt8], delimiter: UInt8 = 0x2C, fastPath: Bool = true) throws -> [Parsed] {
        let folder = try TemporaryFolder()
        return try parseAll(try folder.inputFile("a.csv", text),
                            options: .init(delimiter: delimiter, header: false, targetBatchBytes: 7), fastPath: fastPath)
    }

    private func fields(_ values: String...) -> Parsed { .success(values.map(bytes)) }

    @Test func quotedFieldsAreUnescapedAndUnquotedFieldsKeptVerbatim() throws {
        let text = bytes("a, b ,\"c,d\"\n\"he said \"\"hi\"\"\",\"line\r\nbreak\",\"\"\n,\n")
        for fastPath in [true, false] {
            #expect(try parse(text, fastPath: fastPath) == [
                fields("a", " b ", "c,d"), fields("he said \"hi\"", "line\r\nbreak", ""), fields("", ""),
            ])
        }
    }

    @Test(arguments: [
        ("a,b\"c,d\n", "quote in unquoted field", 2),
        ("\"a\"b\",c\n", "unexpected character after closing quote", 1),
        ("x,\"a\" \",c\n", "unexpected character after closing quote", 2),
        ("x,y,\"open", "unterminated quoted field", 3),
    ])
    func quoteErrorsMakeABadRecordWithItsReasonAndColumn(text: String, reason: String, column: Int) throws {
        let records = try parse(bytes("ok,1\n") + bytes(text) + bytes("\nlast,2\n"))
        #expect(records.first == fields("ok", "1"))
        #expect(records[1] == .failure(RecordProblem(reason: reason, column: column)))
        if reason != "unterminated quoted field" { #expect(records.last == fields("last", "2")) }
    }

    @Test func aBadRecordHasGoldenErrorTextWithItsLocation() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("logs/a.csv", bytes("h1,h2\n1,2\n3,x\"y\n4,5\n"))
        let reader = try RecordReader(file: file, fileIndex: 0)
        let parsed = try CSVFieldParser().parse(try #require(try reader.next()))
        #expect(parsed.badRecords == [1])
        let error = try #require(parsed.error(ofRecord: 1, path: file.displayPath))
        #expect("\(error)" == "logs/a.csv:3:2: error: [read] quote in unquoted field")
        #expect(error.kind.exitCode == 65)
        #expect(error.location?.byteOffset == 10)
        #expect(parsed.error(ofRecord: 0, path: file.displayPath) == nil)
        #expect(parsed.fieldCount(ofRecord: 2) == 2 && parsed.field(1, ofRecord: 2) == [0x35])
    }

    @Test func anUnterminatedQuoteAtTheEndOfTheFileIsOneBadRecord() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("a.csv", bytes("id\n1\n\"2\n3\n4\n"))
        let reader = try RecordReader(file: file, fileIndex: 0)
        let batch = try #require(try reader.next())
        let parsed = try CSVFieldParser().parse(batch)
        #expect(parsed.count == 2)
        #expect("\(try #require(parsed.error(ofRecord: 1, path: file.displayPath)))"
                == "a.csv:3:1: error: [read] unterminated quoted field")
    }

    @Test func theFieldCountTellsTheEngineAboutWrongColumnCounts() throws {
        let records = try parse(bytes("a,b,c\n1,2\n1,2,3,4\n\"x\",,\n"))
        #expect(records.map { (try? $0.get())?.count } == [3, 2, 4, 3])
    }

    @Test func nonUTF8BytesPassThroughAsBytes() throws {
        let text: [UInt8] = [0xFF, 0xFE, 0x2C, 0x22, 0xC3, 0x28, 0x22, 0x0A]
        #expect(try parse(text) == [.success([[0xFF, 0xFE], [0xC3, 0x28]])])
    }

    @Test(arguments: [true, false])
    func aHugeFieldIsParsedWhole(quoted: Bool) throws {
        let huge = (0..<(2 << 20)).map { UInt8(0x61 + $0 % 26) }
        let field = quoted ? [0x22] + huge + [0x22] : huge
        let text = bytes("a,") + field + bytes(",z\nb,c,d\n")
        for fastPath in [true, false] {
            let records = try parse(text, fastPath: fastPath)
            #expect(records.count == 2)
            #expect(records.first == .success([bytes("a"), huge, bytes("z")]))
        }
    }

    @Test func otherDelimitersWork() throws {
        #expect(try parse(bytes("a\t\"b\tc\"\td,e\n"), delimiter: 0x09) == [fields("a", "b\tc", "d,e")])
        #expect(try parse(bytes("a;b\n"), delimiter: 0x3B, fastPath: false) == [fields("a", "b")])
    }

    /// The direct split of quote-free records gives what libcsv gives, on random input.
    @Test(arguments: 0..<200)
    func theFastPathAgreesWithLibcsv(seed: Int) throws {
        var generator = SplitMix(seed: UInt64(seed) &* 31)
        let alphabet = bytes("ab,,\" \n\r\t")
        let text = (0..<Int(generator.next() % 60)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        #expect(try parse(text, fastPath: true) == (try parse(text, fastPath: false)),
                "\(String(decoding: text, as: UTF8.self).debugDescription)")
    }
}
