// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Tally",
    products: [
        .executable(name: "tally", targets: ["tally"]),
        .library(name: "Tally", targets: ["Tally"]),
        .library(name: "Parquet", targets: ["Parquet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries, through the system's packages.
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCSV", providers: [.apt(["libcsv-dev"])]),
        // The few Linux calls the Glibc module does not expose (renameat2).
        .target(name: "CLinux"),

        // A standalone Parquet writer and reader; knows nothing of pipelines.
        .target(name: "Parquet", dependencies: ["CZstd"]),

        // The library: one folder per stage.
        .target(name: "Tally", dependencies: [
            "Parquet", "CZstd", "CCSV", "CLinux",
            .product(name: "Yams", package: "Yams"),
        ]),

        // The command line: parse, call the library, map errors to exit codes.
        .executableTarget(name: "tally", dependencies: [
            "Tally", "Parquet",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "ParquetTests", dependencies: ["Parquet"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TallyTests", dependencies: ["Tally", "Parquet"], resources: [.copy("Fixtures")]),
        .testTarget(name: "tallyCLITests", dependencies: ["Parquet"]),
    ]
)
