/// Turns the parsed records of one batch into events: checks each row, applies `where`, maps
/// ids to local ids and reads the weight and the time. Bad rows are collected, never dropped
/// silently. One per worker; not thread-safe.
struct RowTokenizer {
    let rules: RowRules

    init(rules: RowRules) { self.rules = rules }

    /// The events of `records`, whose fields are laid out as `layout` says.
    func tokenize(_ records: ParsedRecords, layout: FileLayout, path: String) -> EventBatch {
        var events = EventBatch(roles: rules.roles.count)
        events.rowsRead = records.count
        events.weights.reserveCapacity(records.count)

        rows: for r in 0..<records.count {
            func bad(_ reason: String, field: Int? = nil, stage: TallyError.Stage = .tokenize) {
                events.badRows.append(BadRow(
                    stage: stage,
                    location: InputLocation(path: path, line: records.line(r), column: field.map { $0 + 1 },
                                            byteOffset: records.byteOffset(r)),
                    reason: reason,
                    raw: rules.keepRawBadRows ? records.raw(r) : []))
            }
            if let problem = records.problem(r) {
                bad(problem.reason, field: problem.field, stage: .read)
                continue
            }
            let fieldCount = records.fieldCount(r)
            guard fieldCount == layout.fieldCount else {
                bad("expected \(layout.fieldCount) fields, found \(fieldCount)", stage: .read)
                continue
            }
            for filter in layout.filters {
                let accepted = records.withField(r, filter.field) { value in
                    filter.values.contains { $0.elementsEqual(value) }
                }
                if !accepted {
                    events.rowsFiltered += 1
                    continue rows
                }
            }
            for (k, field) in layout.idFields.enumerated() {
                let role = rules.roles[k]
                let problem: String? = records.withField(r, field) { id in
                    if id.isEmpty { return "empty \(role.rawValue) id" }
                    if !FieldValues.isValidUTF8(id) { return "\(role.rawValue) id is not valid UTF-8" }
                    return nil
                }
                if let problem {
                    bad(problem, field: field)
                    continue rows
                }
            }
            let weight: Double
            switch rules.weight {
            case .one:
                weight = 1
            case .column:
                let field = layout.weightField!
                guard let value = records.withField(r, field, FieldValues.parseDouble) else {
                    bad("unparsable weight '\(records.text(r, field))'", field: field)
                    continue rows
                }
                weight = value
            case .events(let table, let defaultWeight):
                weight = records.withField(r, layout.eventField!) { event in
                    table[String(decoding: event, as: UTF8.self)] ?? defaultWeight
                }
            }
            if let format = rules.timeFormat, let field = layout.timeField {
                guard let time = records.withField(r, field, { FieldValues.parseTime($0, format: format) }) else {
                    bad("unparsable time '\(records.text(r, field))'", field: field)
                    continue rows
                }
                events.times.append(time)
            }
            for (k, field) in layout.idFields.enumerated() {
                let (local, inserted) = records.withField(r, field) { events.ids[k].table.insert($0) }
                if inserted {
                    events.ids[k].rows.append(0)
                    events.ids[k].firstLine.append(records.line(r))
                }
                events.ids[k].rows[Int(local)] += 1
                events.localIds[k].append(local)
            }
            events.weights.append(weight)
            events.rowsKept += 1
        }
        return events
    }
}
