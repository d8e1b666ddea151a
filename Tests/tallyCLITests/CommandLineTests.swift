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

    @Test func noCommandIsAUsageError() throws {
        let result = try TallyBinary.run([])
        #expect(result.status == 64)
        #expect(result.stderr.contains("a command is required") && result.stderr.contains("Usage: tally"))
    }
}
