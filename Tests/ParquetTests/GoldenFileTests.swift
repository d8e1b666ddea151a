import Foundation
import Testing

@Suite struct GoldenFileTests {
    @Test func theGoldenFileIsBundled() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/tiny", withExtension: "parquet"))
        let bytes = try Data(contentsOf: url)
        #expect(bytes.count == 220)
        #expect(bytes.prefix(4) == Data("PAR1".utf8))
    }
}
