import Foundation
import Testing

/// The PySpark driver (`integrations/spark/tally_spark.py`) in `local[2]` mode: a task that
/// fails once is retried and the output equals `tally run`, byte for byte; a shard with bad
/// input fails the job at once with exit 65, without retries, and publishes nothing.
@Suite struct SparkTests {
    @Test func theSparkDriverRetriesFailedTasksAndMatchesOneMachine() throws {
        let script = EndToEnd.root.appendingPathComponent("integrations/spark/test_local.py").path
        let result = try EndToEnd.run(try EndToEnd.python(), [script, TallyBinary.url.path])
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.stdout.contains("test_local.py: ok"), "\(result.transcript)")
    }
}
