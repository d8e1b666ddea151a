import Foundation
import Parquet
import Testing
@testable import Tally

/// Whole runs of the differentiable modes, in-process: gradients against finite differences,
/// the identities of DESIGN §3, determinism and edge cases.
@Suite struct DifferentiableRunTests {
    static let header = """
        version: 1
        name: modes
        input:
          paths: ["logs/*.csv*"]
          columns: {item: item_id, user: user_id, time: timestamp}

        """

    static let modes: [String] = [
        "count: {weight: {column: weight}, decay: {half_life: 1d}}\nloss: {kind: multinomial_nll}\ngradients: {parameters: [decay]}",
        "count: {decay: {half_life: 12h, reference: \"2024-11-22T00:00:00Z\"}, smoothing: {temperature: 0.7}}\nloss: {kind: kl}\ngradients: {parameters: [decay, temperature]}",
        "count: {key: [user], weight: {column: weight}, smoothing: {temperature: 3}}\nloss: {kind: poisson_nll}\ngradients: {parameters: [temperature]}",
        "count: {key: [item, time], time_bins: {width: 6h, origin: \"2024-11-19T00:00:00Z\", kernel: triangular, bandwidth: 1.37}}\nloss: {kind: poisson_nll}\ngradients: {parameters: [bandwidth]}",
        "count: {key: [item, time], weight: {column: weight}, decay: {half_life: 2d}, time_bins: {width: 1d, origin: \"2024-11-19T00:00:00Z\", kernel: gaussian, bandwidth: 0.4}}\nloss: {kind: multinomial_nll}\ngradients: {parameters: [decay, bandwidth]}",
        "count: {key: [item, time], time_bins: {width: 1h, origin: \"2024-11-19T00:00:00Z\", kernel: epanechnikov, bandwidth: 2}}\nloss: {kind: mse}\ngradients: {parameters: [bandwidth]}",
        "count: {key: [user, item], weight: {column: weight}, decay: {half_life: 3d}}\nloss: {kind: kl}\ngradients: {parameters: [decay]}",
        "count: {weight: {column: weight}, decay: {half_life: 5d}, embedding: {dim: 3, seed: 11}}\nloss: {kind: sum}\ngradients: {parameters: [decay], embedding_table: true}",
        "count: {key: [user, item], embedding: {dim: 2}}\nloss: {kind: mse}\ngradients: {embedding_table: true}",
    ]

    static func pipeline(_ mode: String, in folder: TemporaryFolder, perEvent: Bool = false) throws -> Pipeline {
        var yaml = header + mode + "\noutput: {dir: out}\n"
        if perEvent { yaml = yaml.replacingOccurrences(of: "gradients: {", with: "gradients: {per_event: true, ") }
        return try Pipeline.parse(yaml: yaml, path: folder.path + "/p.yaml", folder: folder.path)
    }

    static func folderWithLogs() throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        try folder.write("logs/1.csv", bytes(RunTests.log(day: 1, rows: 300)))
        try folder.write("logs/2.csv.zst", zstdFrame(bytes(RunTests.log(day: 2, rows: 200))))
        return folder
    }

    @Test(arguments: modes)
    func everyGradientMatchesFiniteDifferences(_ mode: String) throws {
        let folder = try Self.folderWithLogs()
        let report = try GradientCheck(pipeline: Self.pipeline(mode, in: folder), rows: 400, tolerance: 1e-6).run()
        for line in report.lines { #expect(line.largestError <= 1e-6, "\(line.name): \(line.largestError)") }
        #expect(report.lines.contains { $0.name == "row weights" && $0.checked > 0 })
    }

    /// A row 1.0005 bin widths from a bin's centre leaves that bin at bandwidth 1.0005: within
    /// the first step (10⁻³) of bandwidth 1, where the loss has a kink. The check shrinks its
    /// step below the kink's distance instead of differencing across it (relative error 1.0).
    @Test(arguments: ["triangular", "epanechnikov", "gaussian"])
    func aKernelEdgeBesideTheBandwidthDoesNotFailTheCheck(kernel: String) throws {
        let folder = try TemporaryFolder()
        let edge = kernel == "gaussian" ? 4 : 1
        try folder.write("log.csv", bytes("item_id,t\na,\(Int((0.5 + Double(edge) * 1.0005) * 86_400))\na,30000\n"))
        let yaml = """
            version: 1
            name: edge
            input: {paths: [log.csv], columns: {item: item_id, time: t}}
            count: {key: [item, time], time_bins: {width: 1d, kernel: \(kernel), bandwidth: 1.0}}
            loss: {kind: poisson_nll}
            gradients: {parameters: [bandwidth]}
            output: {dir: out}
            """
        let pipeline = try Pipeline.parse(yaml: yaml, path: folder.path + "/p.yaml", folder: folder.path)
        let report = try GradientCheck(pipeline: pipeline, rows: 10, tolerance: 1e-6).run()
        let bandwidth = try #require(report.lines.first { $0.name == "bandwidth" })
        #expect(bandwidth.largestError <= 1e-6)
    }

    /// What `run` refuses, `gradcheck` does not pass: poisson_nll of a negative value.
    @Test func gradcheckRefusesWhatRunRefuses() throws {
        let folder = try TemporaryFolder()
        try folder.write("log.csv", bytes("item_id,w\na,-2.5\nb,2\n"))
        let yaml = """
            version: 1
            name: negative
            input: {paths: [log.csv], columns: {item: item_id}}
            count: {weight: {column: w}}
            loss: {kind: poisson_nll}
            output: {dir: out}
            """
        let pipeline = try Pipeline.parse(yaml: yaml, path: folder.path + "/p.yaml", folder: folder.path)
        let error = try #require(throws: TallyError.self) { try GradientCheck(pipeline: pipeline, rows: 10, tolerance: 1e-6).run() }
        #expect(error.kind == .badInput && error.message.contains("poisson_nll is defined for counts of 0 or more"), "\(error)")
    }

    @Test(arguments: modes)
    func outputsAreByteIdenticalForAnyNumberOfWorkers(_ mode: String) throws {
        let folder = try Self.folderWithLogs()
        let pipeline = try Self.pipeline(mode, in: folder, perEvent: true)
        func run(_ workers: Int) throws -> [String: Data] {
            var options = PipelineRun.Options(workers: workers, progress: false)
            options.batchBytes = 700
            _ = try PipelineRun(pipeline: pipeline, options: options).run()
            var files: [String: Data] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: pipeline.output.dir.value) where name != "summary.json" {
                files[name] = try Data(contentsOf: URL(fileURLWithPath: pipeline.output.dir.value + "/" + name))
            }
            return files
        }
        let one = try run(1)
        #expect(one["event_grads.parquet"] != nil)
        for workers in [2, 4] { #expect(try run(workers) == one) }
    }

    static func column(_ path: String, _ name: String) throws -> [Double] {
        switch try ParquetReader(path: path).read(column: name).values {
        case .double(let values): return values
        case .int64(let values): return values.map(Double.init)
        case .int32(let values): return values.map(Double.init)
        case .byteArray, .indexed: return []
        }
    }

    @Test func smoothingKeepsTheTotalWeightAndTheBinsKeepEachItemsWeight() throws {
        let folder = try Self.folderWithLogs()
        let plain = try Self.pipeline("count: {weight: {column: weight}}\nloss: {kind: sum}", in: folder)
        _ = try PipelineRun(pipeline: plain, options: .init(progress: false)).run()
        let total = try Self.column(plain.output.dir.value + "/counts.parquet", "value").reduce(0, +)

        let smoothed = try Self.pipeline("count: {weight: {column: weight}, smoothing: {temperature: 0.3}}\nloss: {kind: sum}", in: folder)
        _ = try PipelineRun(pipeline: smoothed, options: .init(progress: false)).run()
        #expect(abs(try Self.column(smoothed.output.dir.value + "/counts.parquet", "value").reduce(0, +) - total) < 1e-9 * total)

        let binned = try Self.pipeline("count: {key: [item, time], weight: {column: weight}, time_bins: {width: 3h, origin: \"2024-11-19T00:00:00Z\", kernel: gaussian, bandwidth: 0.9}}\nloss: {kind: sum}", in: folder)
        _ = try PipelineRun(pipeline: binned, options: .init(progress: false)).run()
        #expect(abs(try Self.column(binned.output.dir.value + "/counts.parquet", "value").reduce(0, +) - total) < 1e-9 * total)
    }

    @Test func theEmbeddingGradientOfASumIsTheWeightedCount() throws {
        let folder = try Self.folderWithLogs()
        let pipeline = try Self.pipeline("count: {weight: {column: weight}, embedding: {dim: 4}}\nloss: {kind: sum}\ngradients: {embedding_table: true}", in: folder)
        _ = try PipelineRun(pipeline: pipeline, options: .init(progress: false)).run()
        let out = pipeline.output.dir.value
        let counts = Dictionary(uniqueKeysWithValues: zip(try Self.column(out + "/counts.parquet", "item"), try Self.column(out + "/counts.parquet", "value")))
        let items = try Self.column(out + "/embedding_grad.parquet", "item")
        for d in 0..<4 {
            for (item, g) in zip(items, try Self.column(out + "/embedding_grad.parquet", "g\(d)")) {
                #expect(abs(g - counts[item]!) <= 1e-12 * abs(g))
            }
        }
    }

    @Test func anInfiniteHalfLifeIsNoDecay() throws {
        let folder = try Self.folderWithLogs()
        let plain = try Self.pipeline("count: {weight: {column: weight}}\nloss: {kind: multinomial_nll}", in: folder)
        _ = try PipelineRun(pipeline: plain, options: .init(progress: false)).run()
        let values = try Self.column(plain.output.dir.value + "/counts.parquet", "value")
        let decayed = try Self.pipeline("count: {weight: {column: weight}, decay: {half_life: 1000000000d}}\nloss: {kind: multinomial_nll}", in: folder)
        _ = try PipelineRun(pipeline: decayed, options: .init(progress: false)).run()
        for (a, b) in zip(values, try Self.column(decayed.output.dir.value + "/counts.parquet", "value")) {
            #expect(abs(a - b) <= 1e-9 * abs(a))
        }
    }

    @Test(arguments: ["1e-3", "1e3", "1e-9"])
    func extremeTemperaturesGiveFiniteNumbers(_ temperature: String) throws {
        let folder = try Self.folderWithLogs()
        let pipeline = try Self.pipeline("count: {smoothing: {temperature: \(temperature)}}\nloss: {kind: multinomial_nll}\ngradients: {parameters: [temperature]}", in: folder)
        _ = try PipelineRun(pipeline: pipeline, options: .init(progress: false)).run()
        for name in ["value", "grad", "d_value_d_temperature"] {
            #expect(try Self.column(pipeline.output.dir.value + "/counts.parquet", name).allSatisfy(\.isFinite), "\(name)")
        }
    }

    @Test func edgeCasesGiveFiniteGradients() throws {
        let folder = try TemporaryFolder()
        // One row; all weights zero; ages of zero; times before the origin; a bandwidth just
        // above its bound.
        try folder.write("logs/a.csv", bytes("user_id,item_id,event,timestamp,weight\nu1,i1,view,1732000000,0\nu1,i1,view,1732000000,0\n"))
        for mode in [
            "count: {weight: {column: weight}, decay: {half_life: 1d}}\nloss: {kind: poisson_nll}\ngradients: {parameters: [decay]}",
            "count: {key: [item, time], time_bins: {width: 1d, origin: \"2030-01-01T00:00:00Z\", kernel: triangular, bandwidth: 0.5000001}}\nloss: {kind: multinomial_nll}\ngradients: {parameters: [bandwidth]}",
            "count: {weight: {column: weight}, smoothing: {temperature: 1}}\nloss: {kind: mse}\ngradients: {parameters: [temperature]}",
        ] {
            let pipeline = try Self.pipeline(mode, in: folder)
            _ = try PipelineRun(pipeline: pipeline, options: .init(progress: false)).run()
            let summary = try String(contentsOfFile: pipeline.output.dir.value + "/summary.json", encoding: .utf8)
            #expect(!summary.contains("null"), "\(mode)")
            #expect(try Self.column(pipeline.output.dir.value + "/counts.parquet", "value").allSatisfy(\.isFinite))
        }
    }
}
