import Foundation

/// `summary.json`: what was read, kept and written, the loss and its gradients, and the time
/// each stage took. Everything but `seconds` is the same for any number of workers.
struct Summary {
    let pipeline: Pipeline
    let fold: Fold
    let reduction: Reduction
    let outputs: [(file: String, rows: Int)]
    let timings: StageTimings
    let totalSeconds: Double

    var json: JSONValue {
        let stats = fold.runStats
        return .object([
            ("pipeline", .object([
                ("name", .string(pipeline.name)),
                // Relative to its own folder, as the inputs' paths are: the same wherever Tally runs.
                ("path", .string(pipeline.fileName)),
                ("hash", .string(pipeline.hash)),
            ])),
            ("version", .string(tallyVersion)),
            ("inputs", .array(fold.inputs.map { input in
                .object([
                    ("path", .string(input.file.relativePath)),
                    ("bytes", .int(input.file.size)),
                    ("rows", .int(Int64(input.rows.read))),
                    ("kept", .int(Int64(input.rows.kept))),
                    ("bad", .int(Int64(input.rows.bad))),
                    ("reused", .bool(input.reused)),
                ])
            })),
            ("rows", .object([
                ("read", .int(Int64(stats.read))),
                ("kept", .int(Int64(stats.kept))),
                ("bad", .int(Int64(stats.bad))),
                ("filtered", .int(Int64(stats.filtered))),
                ("oov_dropped", .int(reduction.droppedRows)),
            ])),
            ("loss", .number(reduction.loss)),
            ("loss_kind", .string(pipeline.loss.kind.value.rawValue)),
            ("gradients", .object(reduction.parameterGradients.map { ($0.parameter.rawValue, .number($0.value)) })),
            ("outputs", .object(outputs.map { ($0.file, .int(Int64($0.rows))) })),
            ("seconds", .object(StageTimings.Stage.allCases.map { stage in
                (stage.name, .number(Self.rounded(timings.seconds(stage))))
            } + [("total", .number(Self.rounded(totalSeconds)))])),
        ])
    }

    func write(to path: String) throws {
        do {
            try Data(json.rendered().utf8).write(to: URL(fileURLWithPath: path))
        } catch {
            throw TallyError(.io, stage: .write, at: InputLocation(path: path), "cannot write summary.json: \(OutputFolder.reason(error))")
        }
    }

    private static func rounded(_ seconds: Double) -> Double { (seconds * 1000).rounded() / 1000 }
}
