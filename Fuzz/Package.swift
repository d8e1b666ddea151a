// swift-tools-version: 6.1
// libFuzzer harnesses for Tally's readers and the pipeline-file parser. Build and run them with
// `scripts/fuzz` from the repository root; they link only with `-sanitize=fuzzer`, which supplies
// the libFuzzer runtime.
import PackageDescription

let package = Package(
    name: "TallyFuzz",
    dependencies: [
        .package(name: "Tally", path: ".."),
    ],
    targets: [
        // libFuzzer's `LLVMFuzzerRunDriver`, declared for Swift.
        .target(name: "CLibFuzzer"),
        // Feeding bytes to the readers through a scratch file, the checks the harnesses share,
        // and the driver call.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "Tally", package: "Tally")]),
        // One harness per input format: `LLVMFuzzerTestOneInput` in FuzzX.swift, the driver in main.swift.
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzZstd", dependencies: ["FuzzSupport"]),
        .executableTarget(name: "FuzzParquet", dependencies: [
            "FuzzSupport", .product(name: "Parquet", package: "Tally"),
        ]),
        .executableTarget(name: "FuzzPipeline", dependencies: ["FuzzSupport"]),
    ]
)
