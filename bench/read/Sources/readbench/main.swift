import Foundation
import Tally

/// Reads one file with `RecordReader` on this thread and, with `--parse`, splits every batch with
/// `CSVFieldParser` and touches every field (through `fieldRange` and a rebased slice, as the
/// tokenizer does, or with `--fields` through `withFields`); prints thread CPU seconds per stage and checksums
/// (so that runs of two builds can be compared for equal output).
func threadSeconds() -> Double {
    var spec = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
    return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    print("usage: readbench FILE [--parse | --fields] [--repeat N] [--batch BYTES]")
    exit(2)
}
let path = arguments[1]
let parse = arguments.contains("--parse") || arguments.contains("--fields")
let useFields = arguments.contains("--fields")
let repeats = arguments.firstIndex(of: "--repeat").map { Int(arguments[$0 + 1])! } ?? 1
let batchBytes = arguments.firstIndex(of: "--batch").map { Int(arguments[$0 + 1])! } ?? (1 << 20)

for _ in 0..<repeats {
    let file = try InputFile(path: path, base: "/")
    var options = RecordReader.Options()
    options.targetBatchBytes = batchBytes
    let reader = try RecordReader(file: file, fileIndex: 0, options: options)
    let parser = CSVFieldParser()
    var readSeconds = 0.0, parseSeconds = 0.0, splitSeconds = 0.0
    var records = 0, fields = 0, fieldByteSum = 0, lineSum = 0, offsetSum: Int64 = 0, bad = 0
    let wallStart = Date()
    while true {
        let t0 = threadSeconds()
        guard let batch = try reader.next() else { readSeconds += threadSeconds() - t0; break }
        readSeconds += threadSeconds() - t0
        records += batch.count
        if batch.count > 0 {
            lineSum += batch.line(ofRecord: batch.count - 1)
            offsetSum += batch.byteOffset(ofRecord: batch.count - 1)
        }
        guard parse else { continue }
        let t1 = threadSeconds()
        let parsed = try parser.parse(batch)
        let t2 = threadSeconds()
        splitSeconds += t2 - t1
        if useFields {
            parsed.withFields { view in
                for r in 0..<view.count {
                    if parsed.problem(ofRecord: r) != nil { bad += 1; continue }
                    let n = view.fieldCount(ofRecord: r)
                    fields += n
                    for f in 0..<n {
                        let field = view.field(f, ofRecord: r)
                        fieldByteSum &+= field.count &+ (field.isEmpty ? 0 : Int(field[0]))
                    }
                }
            }
        } else {
            parsed.fieldBytes.withUnsafeBytes { bytes in
                for r in 0..<parsed.count {
                    if parsed.problem(ofRecord: r) != nil { bad += 1; continue }
                    let n = parsed.fieldCount(ofRecord: r)
                    fields += n
                    for f in 0..<n {
                        let field = UnsafeRawBufferPointer(rebasing: bytes[parsed.fieldRange(f, ofRecord: r)])
                        fieldByteSum &+= field.count &+ (field.isEmpty ? 0 : Int(field[0]))
                    }
                }
            }
        }
        parseSeconds += threadSeconds() - t1
    }
    let wall = Date().timeIntervalSince(wallStart)
    print(String(format: "read %.3f s  parse %.3f s (split %.3f s)  wall %.3f s  records %d fields %d check %d lines %d offsets %lld bad %d",
                 readSeconds, parseSeconds, splitSeconds, wall, records, fields, fieldByteSum, lineSum, offsetSum, bad))
}
