// swift-tools-version: 6.1
// A micro-benchmark of the read stage alone (decompress + frame, then split fields), outside the
// engine: `swift run -c release readbench FILE [--parse] [--repeat N]`.
import PackageDescription

let package = Package(
    name: "readbench",
    dependencies: [.package(name: "Tally", path: "../..")],
    targets: [
        .executableTarget(name: "readbench", dependencies: [.product(name: "Tally", package: "Tally")]),
    ]
)
