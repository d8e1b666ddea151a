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

    /// Input bytes quoted in a message cannot move the cursor, colour the terminal or break the
    /// line: control characters are written as `\xNN`; other text, UTF-8 included, is kept.
    @Test func controlCharactersInAMessageAreEscaped() {
        let error = TallyError(.badInput, stage: .read, at: InputLocation(path: "a.csv", line: 1),
                               "missing column 'item_id' (header has: it\u{0}em, ev\u{1B}[31m, é\r\n)")
        #expect(error.description == #"a.csv:1: error: [read] missing column 'item_id' (header has: it\x00em, ev\x1B[31m, é\x0D\x0A)"#)
        #expect("plain é".printable == "plain é")
    }

    /// Nor can they reorder it (a right-to-left override) or break it where a terminal or an
    /// editor would (U+2028): those are written as `\u{…}`.
    @Test func invisibleLineBreaksAndDirectionControlsAreEscaped() {
        #expect("id 'abc\u{202E}fed' line\u{2028}two \u{2066}x\u{2069} \u{061C}".printable
                == #"id 'abc\u{202E}fed' line\u{2028}two \u{2066}x\u{2069} \u{61C}"#)
        #expect("\u{200B}zero width space, \u{202F}narrow no-break space".printable
                == "\u{200B}zero width space, \u{202F}narrow no-break space")
    }
}
