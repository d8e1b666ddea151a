// swift-tools-version: 6.1
import PackageDescription

// Micro-benchmarks of Tally's hot loops, kept out of the root package so that building or testing
// Tally never fetches or compiles the benchmark framework. Run them with `scripts/microbench`.
let package = Package(
    name: "TallyBenchmarks",
    dependencies: [
        .package(name: "Tally", path: ".."),
        // MallocInterposer alone: the allocation counts, without the runtime interposer, whose
        // package this machine's mirror lacks.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .systemLibrary(name: "CZstdBench", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        // Seeded synthetic logs and tables, and scratch files on tmpfs: nothing is committed.
        .target(name: "BenchmarkData", dependencies: [
            "CZstdBench",
            .product(name: "Tally", package: "Tally"),
            .product(name: "Parquet", package: "Tally"),
            .product(name: "Benchmark", package: "benchmark"),
        ]),
    ]
)

// One executable per stage, in Benchmarks/<Name>/ as the benchmark plugin expects.
for (name, products) in [("ReadBenchmarks", ["Tally"]), ("TokenizeBenchmarks", ["Tally"]), ("WriteBenchmarks", ["Parquet"])] {
    package.targets.append(.executableTarget(
        name: name,
        dependencies: ["BenchmarkData", .product(name: "Benchmark", package: "benchmark")]
            + products.map { .product(name: $0, package: "Tally") },
        path: "Benchmarks/\(name)",
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ))
}
