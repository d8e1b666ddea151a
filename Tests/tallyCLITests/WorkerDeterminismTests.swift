import Foundation
import Testing

/// DESIGN §4: the same inputs and pipeline give byte-identical output files for every
/// `--workers` value; summary.json differs only in its timings.
@Suite struct WorkerDeterminismTests {
    static let pipelines: [String: String] = [
        "items": """
            version: 1
            name: determinism-items
            description: item counts over two sample days, weight column, multinomial loss
            input:
              paths: ["sample-data/logs/2024-11-19.csv.zst", "sample-data/logs/2024-11-20.csv.zst"]
              columns: {item: item_id, weight: weight}
            vocabulary:
              item: {min_count: 2}
            count:
              key: [item]
              weight: {column: weight}
            loss:
              kind: multinomial_nll
            output:
              dir: out
            """,
        "pairs": """
            version: 1
            name: determinism-pairs
            description: user-item pairs with an events table, a filter and quarantined bad rows
            input:
              paths: ["sample-data/logs/2024-11-21.csv.zst", "extra/*.csv"]
              columns: {user: user_id, item: item_id, event: event}
              where: {event: [view, click, purchase]}
              bad_rows: {policy: quarantine}
            vocabulary:
              user: {order: first_seen}
              item: {min_count: 2, max_size: 5000}
            count:
              key: [user, item]
              weight:
                events: {view: 1, click: 2.5, purchase: 10}
                default: 0.1
            loss:
              kind: kl
            output:
              dir: out
            """,
    ]

    /// Bad rows between good ones, so quarantine order is tested too.
    static let extra = """
        user_id,item_id,event,timestamp,weight
        u0000001,sku-00000001,view,1732000000,1
        u0000002,sku-00000002,view
        u0000003,"sku-00000003",click,1732000002,2
        u0000004,,view,1732000003,1
        u0000005,sku-00000001,purchase,1732000004,1

        """

    @Test(arguments: ["items", "pairs"])
    func outputsAreByteIdenticalForOneTwoAndFourWorkersWhereverTallyRuns(_ name: String) throws {
        let folder = try EndToEnd.temporaryFolder("workers-\(name)")
        defer { EndToEnd.cleanUp(folder) }
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("sample-data"),
                                                   withDestinationURL: EndToEnd.sampleData)
        try EndToEnd.write(Self.extra, to: "extra/bad-rows.csv", in: folder)
        let pipeline = try EndToEnd.write(Self.pipelines[name]!, to: "\(name).yaml", in: folder)
        // Each run from another place, with the pipeline's path given another way: outputs do
        // not depend on where Tally runs either.
        let places = [1: (pipeline.path, folder), 2: ("\(folder.lastPathComponent)/\(name).yaml", folder.deletingLastPathComponent()),
                      4: ("./\(name).yaml", folder)]
        var outputs: [Int: [String: Data]] = [:]
        for workers in [1, 2, 4] {
            let (path, directory) = places[workers]!
            let run = try EndToEnd.tally(["run", path, "--workers", "\(workers)"], in: directory)
            try #require(run.status == 0, "--workers \(workers):\n\(run.transcript)")
            let out = folder.appendingPathComponent("out")
            if workers == 1 { try EndToEnd.check(pipeline, out) }
            outputs[workers] = try EndToEnd.files(in: out)
            try FileManager.default.moveItem(at: out, to: folder.appendingPathComponent("out-\(workers)"))
        }
        let reference = try #require(outputs[1])
        #expect(reference.keys.contains("counts.parquet"))
        for workers in [2, 4] {
            let other = try #require(outputs[workers])
            #expect(Set(other.keys) == Set(reference.keys), "--workers \(workers) wrote other files")
            for (file, bytes) in reference where file != "summary.json" {
                #expect(other[file] == bytes, "\(file) differs between --workers 1 and \(workers)")
            }
            #expect(try summaryWithoutTimings(other["summary.json"]) == summaryWithoutTimings(reference["summary.json"]),
                    "summary.json (seconds aside) differs between --workers 1 and \(workers)")
        }
    }

    private func summaryWithoutTimings(_ data: Data?) throws -> NSDictionary {
        let object = try JSONSerialization.jsonObject(with: try #require(data))
        var summary = try #require(object as? [String: Any])
        summary["seconds"] = nil
        return summary as NSDictionary
    }
}
