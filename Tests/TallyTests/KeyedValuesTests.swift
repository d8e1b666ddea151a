import Testing
@testable import Tally

/// Target and embedding tables given as CSV: read by key, with bad rows located.
@Suite struct KeyedValuesTests {
    @Test func aCSVTableIsReadByKey() throws {
        let folder = try TemporaryFolder()
        try folder.write("target.csv", bytes("item_id,logit\na,0.5\nb,-1.25\n"))
        let table = try KeyedValues.read(folder.path + "/target.csv", roles: [.item], columns: ["logit"], base: folder.path)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("a".utf8))) == 0.5)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("b".utf8))) == -1.25)
        #expect(table.value(for: IdKey(user: nil, item: ArraySlice("c".utf8))) == nil)
    }

    /// A row short of a column the table needs is named at its line and its first missing field.
    @Test func aShortRowIsAnErrorAtItsFirstMissingField() throws {
        let folder = try TemporaryFolder()
        try folder.write("target.csv", bytes("item_id,logit\na,0.5\nb\n"))
        let error = try #require(throws: TallyError.self) {
            try KeyedValues.read(folder.path + "/target.csv", roles: [.item], columns: ["logit"], base: folder.path)
        }
        #expect(error.kind == .badInput)
        #expect(error.description.hasSuffix("target.csv:3:2: error: [reduce] expected at least 2 fields, found 1"), "\(error)")
    }
}
