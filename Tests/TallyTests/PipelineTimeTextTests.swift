import Testing
@testable import Tally

@Suite struct PipelineTimeTextTests {
    @Test(arguments: [
        ("7d", 604_800.0), ("36h", 129_600), ("1.5d", 129_600), ("90m", 5400), ("30s", 30), (".5h", 1800), ("0d", 0),
    ])
    func durationsConvertToSeconds(text: String, seconds: Double) {
        #expect(TimeText.duration(text) == seconds)
    }

    @Test(arguments: ["7", "d", "7 d", "7D", "1w", "-1d", "1.2.3h", "1e3s", ".s", "inf d", ""])
    func malformedDurationsAreRejected(text: String) {
        #expect(TimeText.duration(text) == nil)
    }

    @Test(arguments: [
        ("1970-01-01T00:00:00Z", 0.0),
        ("2026-01-01T00:00:00Z", 1_767_225_600),
        ("2026-01-01 00:00:00z", 1_767_225_600),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600),
        ("2025-12-31T19:00-0500", 1_767_225_600),
        ("2026-01-01T00:00:00.25Z", 1_767_225_600.25),
        ("2024-02-29T12:00:00Z", 1_709_208_000),
        ("1969-12-31T23:59:59Z", -1),
    ])
    func instantsConvertToUnixSeconds(text: String, seconds: Double) {
        #expect(TimeText.instant(text) == seconds)
    }

    @Test(arguments: [
        "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "2026-1-01T00:00:00Z",
        "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00Z junk", "end",
    ])
    func malformedInstantsAreRejected(text: String) {
        #expect(TimeText.instant(text) == nil)
    }
}
