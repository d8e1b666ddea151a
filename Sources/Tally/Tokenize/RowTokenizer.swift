/// Turns the parsed records of one batch into events: checks each row, applies `where`, maps
/// ids to local ids and reads the weight and the time. Bad rows are collected, never dropped
/// silently. One per worker.
struct RowTokenizer: Sendable {
    let rules: RowRules

    init(rules: RowRules) { self.rules = rules }

    /// The events of the first `rows` records of `parsed` (all when nil), whose fields are laid
    /// out as `layout` says; `path` names the file in locations.
    func tokenize(_ parsed: ParsedBatch, layout: FileLayout, path: String, rows limit: Int? = nil) -> EventBatch {
        let recordCount = min(parsed.count, limit ?? parsed.count)
        let records = parsed.records
        // Everything the loop mutates is local to the closure, so exclusivity is checked
        // statically, not on every access.
        return parsed.withFields { fields -> EventBatch in
            var events = EventBatch(roles: rules.roles.count)
            events.rowsRead = recordCount
            // Every per-row array at its final size at most, so the row loop never regrows one.
            events.weights.reserveCapacity(recordCount)
            events.records.reserveCapacity(recordCount)
            if rules.timeFormat != nil && layout.timeField != nil { events.times.reserveCapacity(recordCount) }
            @inline(__always) func field(_ r: Int, _ f: Int) -> UnsafeRawBufferPointer { fields.field(f, ofRecord: r) }
            // What every row needs, read once out of the rules.
            var weightField: Int?, eventWeights: [String: Double]?, defaultEventWeight = 1.0
            switch rules.weight {
            case .one: break
            case .column: weightField = layout.weightField
            case .events(let table, let fallback): (eventWeights, defaultEventWeight) = (table, fallback)
            }
            let hasWeightDeltas = !rules.weightDeltas.isEmpty, maxFieldBytes = rules.maxFieldBytes
            let binned = rules.timeBins != nil
            rows: for r in 0..<recordCount {
                /// Records row `r` as bad; `column` is 1-based.
                func bad(_ reason: String, column: Int? = nil, stage: TallyError.Stage = .tokenize) {
                    events.badRows.append(BadRow(
                        stage: stage,
                        location: records.location(ofRecord: r, path: path, column: column),
                        reason: reason,
                        raw: rules.keepRawBadRows ? Array(records.bytes[records.range(ofRecord: r)]) : []))
                }
                if let problem = parsed.problem(ofRecord: r) {
                    bad(problem.reason, column: problem.column, stage: .read)
                    continue
                }
                let fieldCount = parsed.fieldCount(ofRecord: r)
                // A field over the limit is a bad row, whatever column it is in; a record under
                // the limit cannot hold one.
                if records.range(ofRecord: r).count > maxFieldBytes,
                   let long = (0..<fieldCount).first(where: { field(r, $0).count > maxFieldBytes }) {
                    bad("field longer than \(maxFieldBytes) bytes (\(field(r, long).count))", column: long + 1, stage: .read)
                    continue
                }
                // A wrong field count is located at the first field missing or the first one too many.
                if let expected = layout.fieldCount, fieldCount != expected {
                    bad("expected \(expected) fields, found \(fieldCount)", column: min(fieldCount, expected) + 1, stage: .read)
                    continue
                }
                if fieldCount < layout.minimumFieldCount {
                    bad("expected at least \(layout.minimumFieldCount) fields, found \(fieldCount)", column: fieldCount + 1, stage: .read)
                    continue
                }
                for filter in layout.filters {
                    let value = field(r, filter.field)
                    if !filter.values.contains(where: { $0.elementsEqual(value) }) {
                        events.rowsFiltered += 1
                        continue rows
                    }
                }
                for (k, f) in layout.idFields.enumerated() {
                    let id = field(r, f)
                    if id.isEmpty {
                        bad("empty \(rules.roles[k].rawValue) id", column: f + 1)
                        continue rows
                    }
                    if !FieldValues.isValidUTF8(id) {
                        bad("\(rules.roles[k].rawValue) id is not valid UTF-8", column: f + 1)
                        continue rows
                    }
                }
                var weight = 1.0
                if let f = weightField {
                    guard let value = FieldValues.parseDouble(field(r, f)) else {
                        bad("unparsable weight '\(String(decoding: field(r, f), as: UTF8.self))'", column: f + 1)
                        continue rows
                    }
                    weight = value
                } else if let table = eventWeights {
                    weight = table[String(decoding: field(r, layout.eventField!), as: UTF8.self)] ?? defaultEventWeight
                }
                if hasWeightDeltas, let delta = rules.weightDeltas[path]?[records.line(ofRecord: r)] {
                    weight += delta
                }
                if let format = rules.timeFormat, let f = layout.timeField {
                    guard let time = FieldValues.parseTime(field(r, f), format: format) else {
                        bad("unparsable time '\(String(decoding: field(r, f), as: UTF8.self))'", column: f + 1)
                        continue rows
                    }
                    if binned, !rules.isBinnable(time) {
                        bad("time '\(String(decoding: field(r, f), as: UTF8.self))' is too far from the time bins' origin: bins "
                            + "are numbered in 32 bits, up to about 2^31 either side (set count.time_bins.origin near the data)", column: f + 1)
                        continue rows
                    }
                    events.times.append(time)
                }
                events.weights.append(weight)
                events.records.append(Int32(r))
                events.rowsKept += 1
            }
            // The kept rows' ids, role by role, in one pass each.
            let kept = events.records
            for (k, f) in layout.idFields.enumerated() {
                events.ids[k] = BatchIds(rows: kept.count, of: parsed.fieldBytes, key: { field(Int(kept[$0]), f) },
                                         firstLine: rules.keepsFirstLines ? { records.line(ofRecord: Int(kept[$0])) } : nil)
            }
            return events
        }
    }
}
