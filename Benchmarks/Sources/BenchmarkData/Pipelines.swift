import Tally

/// Pipelines over `InteractionLog`'s columns, as the tokenize benchmarks configure the stages.
public enum Pipelines {
    /// The `count.weight` setting to benchmark.
    public enum Weight: String, Sendable {
        /// `weight: {column: weight}`: a number parsed from every row.
        case column
        /// `weight: {events: {...}}`: the event name looked up in a table.
        case events
    }

    /// A pipeline counting `key` (`"[item]"` or `"[user, item]"`) with `weight`, reading files in `folder`.
    public static func make(key: String = "[item]", weight: Weight, folder: String) throws -> Pipeline {
        let weightLine = switch weight {
        case .column: "{column: weight}"
        case .events: "{events: {\(InteractionLog.eventNames.map { "\($0): 1" }.joined(separator: ", "))}, default: 0}"
        }
        let yaml = """
            version: 1
            name: microbench
            input:
              paths: ["*.csv"]
              columns: {user: user_id, item: item_id, event: event, weight: weight, time: timestamp}
            count:
              key: \(key)
              weight: \(weightLine)
            loss: {kind: sum}
            output: {dir: out}
            """
        return try Pipeline.parse(yaml: yaml, path: "microbench.yaml", folder: folder)
    }
}
