import ArgumentParser

/// `tally`: turns zstd-compressed CSV interaction logs into counts, losses and gradients.
@main
struct TallyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Counts, losses and gradients from zstd-compressed CSV interaction logs, as Parquet.",
        version: "0.1.0",
        subcommands: []
    )
}
