import Testing

@Suite struct CommandLineTests {
    @Test func helpListsTheCommandsAndExitsZero() throws {
        let result = try TallyBinary.run(["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: tally"))
    }

    @Test func anUnknownOptionIsAUsageError() throws {
        let result = try TallyBinary.run(["--no-such-option"])
        #expect(result.status == 64)
    }
}
