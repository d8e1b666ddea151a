/// Tally's version, as `tally --version` prints it and `summary.json` records it.
public let tallyVersion = "0.1.0"
