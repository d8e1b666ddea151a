import Testing
@testable import Tally

@Suite struct TallyErrorTests {
    @Test func descriptionNamesThePlaceTheStageAndTheMessage() {
        let error = TallyError(.badInput, stage: .read,
                               at: InputLocation(path: "logs/a.csv.zst", line: 1042, column: 3),
                               "unparsable weight 'n/a'")
        #expect("\(error)" == "logs/a.csv.zst:1042:3: error: [read] unparsable weight 'n/a'")
        #expect(error.kind.exitCode == 65)
    }

    @Test func anErrorWithoutALocationStartsWithError() {
        let error = TallyError(.noInput, stage: .read, "no input file matched 'logs/*.csv.zst'")
        #expect("\(error)" == "error: [read] no input file matched 'logs/*.csv.zst'")
        #expect(error.kind.exitCode == 66)
    }
}
