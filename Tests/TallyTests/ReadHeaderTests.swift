import Testing
@testable import Tally

@Suite struct ReadHeaderTests {
    @Test func columnsAreFoundByNameInEachFilesOwnOrder() throws {
        let folder = try TemporaryFolder()
        let first = try RecordReader(file: try folder.inputFile("a.csv", bytes("user_id,item_id,ts\nu,i,1\n")), fileIndex: 0)
        let second = try RecordReader(file: try folder.inputFile("b.csv", bytes("ts,extra,item_id,user_id\n1,x,i,u\n")), fileIndex: 1)
        let columns: [Pipeline.ColumnRef] = [.name("item_id"), .name("user_id"), .name("ts")]
        #expect(try first.columnPositions(columns) == [1, 0, 2])
        #expect(try second.columnPositions(columns) == [2, 3, 0])
        #expect(try second.header() == Header(names: ["ts", "extra", "item_id", "user_id"], line: 1))
    }

    @Test func theHeaderIsNotARecordAndMayFollowBlankLinesAndAByteOrderMark() throws {
        let folder = try TemporaryFolder()
        let file = try folder.inputFile("a.csv.zst", zstdFrame([0xEF, 0xBB, 0xBF] + bytes("\r\n\"a\",b\r\n1,2\r\n")))
        let result = try readAll(file, options: .init(targetBatchBytes: 1))
        #expect(result.header == Header(names: ["a", "b"], line: 2))
        #expect(result.records == [ReadRecord(text: bytes("1,2"), line: 3, offset: 12)])
    }

    @Test func aMissingColumnIsAnErrorNamingTheFileLineAndHeader() throws {
        let folder = try TemporaryFolder()
        let reader = try RecordReader(file: try folder.inputFile("a.csv", bytes("user_id,sku,ts\nu,i,1\n")), fileIndex: 0)
        let error = try #require(throws: TallyError.self) {
            _ = try reader.columnPositions([.name("user_id"), .name("item_id")])
        }
        #expect(error.kind == .badInput && error.kind.exitCode == 65)
        #expect("\(error)" == "a.csv:1: error: [read] missing column 'item_id' (header has: user_id, sku, ts)")
    }

    @Test func withoutAHeaderColumnsAreZeroBasedNumbersAndTheFirstRecordIsData() throws {
        let folder = try TemporaryFolder()
        let reader = try RecordReader(file: try folder.inputFile("a.csv", bytes("u,i,1\n")), fileIndex: 0,
                                      options: .init(header: false))
        #expect(try reader.header() == nil)
        #expect(try reader.columnPositions([.index(2), .index(0)]) == [2, 0])
        #expect(try reader.next()?.count == 1)
        let error = try #require(throws: TallyError.self) { _ = try reader.columnPositions([.name("item_id")]) }
        #expect(error.kind == .config)
    }

    @Test func aNumberedColumnMustExistInTheHeader() throws {
        let header = Header(names: ["a", "b"])
        #expect(try ColumnPositions.resolve([.index(1)], header: header, path: "x.csv") == [1])
        let error = try #require(throws: TallyError.self) {
            _ = try ColumnPositions.resolve([.index(2)], header: header, path: "x.csv")
        }
        #expect("\(error)" == "x.csv:1: error: [read] missing column '2' (header has: a, b)")
    }

    /// Which of two columns of one name is meant cannot be known: an error where the second is.
    /// A name the pipeline does not use may repeat.
    @Test func aNameTheHeaderHasTwiceIsAnError() throws {
        let header = Header(names: ["user_id", "item_id", "x", "x", "item_id"], line: 2)
        #expect(try ColumnPositions.resolve([.name("user_id"), .index(4)], header: header, path: "x.csv") == [0, 4])
        let error = try #require(throws: TallyError.self) {
            _ = try ColumnPositions.resolve([.name("user_id"), .name("item_id")], header: header, path: "x.csv")
        }
        #expect(error.kind == .badInput)
        #expect("\(error)" == "x.csv:2:5: error: [read] column 'item_id' appears twice in the header (columns 2 and 5)")
    }

    @Test(arguments: [[], [0xEF, 0xBB, 0xBF], bytes("\n\n\r\n")])
    func anEmptyFileHasNoHeaderAndNoRows(content: [UInt8]) throws {
        let folder = try TemporaryFolder()
        let result = try readAll(try folder.inputFile("e.csv", content))
        #expect(result.header == nil && result.records.isEmpty && result.batchCount == 0)
        let packed = try readAll(try folder.inputFile("e.csv.zst", zstdFrame(content)))
        #expect(packed.header == nil && packed.records.isEmpty)
    }

    @Test func aHeaderOnlyFileHasNoRows() throws {
        let folder = try TemporaryFolder()
        let result = try readAll(try folder.inputFile("h.csv", bytes("a,b")))
        #expect(result.header?.names == ["a", "b"] && result.records.isEmpty)
    }

    @Test func aBadHeaderIsAnError() throws {
        let folder = try TemporaryFolder()
        let reader = try RecordReader(file: try folder.inputFile("a.csv", bytes("a,b\"c\n1,2\n")), fileIndex: 0)
        let error = try #require(throws: TallyError.self) { _ = try reader.next() }
        #expect("\(error)" == "a.csv:1:2: error: [read] bad header: quote in unquoted field")
    }
}
