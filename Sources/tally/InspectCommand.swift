import ArgumentParser
import Foundation
import Parquet
import Tally

/// `tally inspect FILE.parquet`: schema, row groups, codecs, statistics and the first rows.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a Parquet file's schema, row groups, codecs, statistics and first rows.")

    @Argument(help: "The Parquet file.")
    var file: String

    @Option(help: "How many rows to print.")
    var head = 10

    func validate() throws {
        if head < 0 { throw ValidationError("--head must be 0 or more") }
    }

    func run() throws {
        try reportingErrors {
            let location = InputLocation(path: file)
            do {
                let metadata = try ParquetReader.metadata(path: file)
                print(Self.describe(metadata, path: file))
                guard head > 0 else { return }
                let reader = try ParquetReader(path: file)
                print(try Self.firstRows(reader, count: head))
            } catch let error as ParquetError {
                let missing = !FileManager.default.fileExists(atPath: file)
                throw TallyError(missing ? .noInput : .badInput, stage: .inspect, at: location,
                                 missing ? "no such file" : "\(error)")
            }
        }
    }

    static func describe(_ metadata: ParquetFileMetadata, path: String) -> String {
        var lines = ["\(path): \(metadata.numRows) rows in \(metadata.rowGroups.count) row group(s), created by \(metadata.createdBy ?? "unknown")"]
        lines.append("columns:")
        for element in metadata.schema.dropFirst() {
            let type = element.logicalType.map { "\(element.type.map { "\($0)" } ?? "") \($0)" } ?? element.type.map { "\($0)" } ?? "GROUP"
            lines.append("  \(element.name): \(type), \(element.repetition.map { "\($0)" } ?? "")")
        }
        for (i, group) in metadata.rowGroups.enumerated() {
            lines.append("row group \(i): \(group.numRows) rows, \(group.totalCompressedSize ?? 0) bytes compressed, \(group.totalByteSize) uncompressed")
            for chunk in group.columns {
                guard let meta = chunk.metaData else { continue }
                var line = "  \(meta.pathInSchema.joined(separator: ".")): \(meta.codec), \(meta.encodings.map { "\($0)" }.joined(separator: ","))"
                if let stats = meta.statistics {
                    if let min = meta.minValue, let max = meta.maxValue { line += ", min \(min), max \(max)" }
                    if let nulls = stats.nullCount { line += ", \(nulls) null" }
                }
                lines.append(line)
            }
        }
        // Names, statistics and the writer's name are the file's bytes: escaped, as messages are.
        return lines.map(\.printable).joined(separator: "\n")
    }

    static func firstRows(_ reader: ParquetReader, count: Int) throws -> String {
        let rows = min(count, reader.rowCount)
        var table = [reader.columns.map(\.name)]
        let columns = try reader.columns.map { try reader.read(column: $0.name) }
        for row in 0..<rows {
            table.append(columns.map { column in
                if let validity = column.validity, !validity[row] { return "null" }
                switch column.values {
                case .int32(let values): return String(values[row])
                case .int64(let values): return String(values[row])
                case .double(let values): return String(values[row])
                case .byteArray(let values): return String(decoding: values[row], as: UTF8.self)
                case .indexed(let values): return String(decoding: values.values[Int(values.indices[row])], as: UTF8.self)
                }
            })
        }
        // The file's bytes, escaped as messages are, and cut to 64 characters: a cell cannot
        // move the terminal's cursor, and one long value does not widen every row.
        table = table.map { row in row.map { cell in
            let text = cell.printable
            return text.count > 64 ? String(text.prefix(63)) + "…" : text
        } }
        let widths = table[0].indices.map { c in table.map { $0[c].count }.max() ?? 0 }
        // Padded by characters, as the widths are counted (`padding(toLength:)` counts UTF-16
        // units, and cut an emoji in two).
        return table.map { row in
            zip(row, widths).map { $0 + String(repeating: " ", count: $1 - $0.count) }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}
