import Foundation

/// The per-row gradients of a sharded run: one part per input file in the partials folder,
/// written by `tally run --shard I/N --gradients-from` and concatenated by `tally reduce` into
/// `event_grads.parquet`, in path order, through the same writer as a one-machine run.
///
/// A part is `<settings>-<path digest>.grads` (`InputFile.entryName`): a header (the file's path and size, and the digest of the
/// reduction its gradients come from), each batch's rows as a length-prefixed chunk, an empty
/// chunk, then the SHA-256 of everything before it. It is written to a temporary name and
/// renamed, so a part is complete or absent; one made from other counts is refused.
enum GradientParts {
    static let magic = Array("TALLYEG1".utf8)
    static let kind = "grads"

    /// What ties a part to the reduction it came from: the pipeline file, every input's path,
    /// size and kept rows, and the loss's exact bits.
    static func digest(pipeline: Pipeline, fold: Fold, loss: Double) -> [UInt8] {
        var text = "tally-grads-1|\(pipeline.hash)|loss=\(loss.bitPattern)"
        for input in fold.inputs { text += "|\(input.file.relativePath)|\(input.file.size)|\(input.rows.kept)" }
        return SHA256.hash(Array(text.utf8))
    }

    /// Whether the store has the parts of `files` for the reduction `digest`: all of them (true)
    /// or none (false: the gradient maps have not run for this reduction yet; parts of an earlier
    /// one are left to be replaced). Some but not all is exit 65, naming the files without one.
    static func available(for files: [InputFile], in store: PartialStore, digest: [UInt8]) throws -> Bool {
        let problems: [String?] = files.map { file in
            guard FileManager.default.fileExists(atPath: store.path(of: file, kind: kind)) else { return "missing" }
            let usable = (try? PartReader(file: file, store: store, digest: digest, checkingContent: false)) != nil
            return usable ? nil : "from another reduction, or damaged"
        }
        if problems.allSatisfy({ $0 == nil }) { return true }
        if problems.allSatisfy({ $0 != nil }) { return false }
        let named = files.indices.compactMap { index in problems[index].map { "'\(files[index].displayPath)' (\($0))" } }
        throw TallyError(.badInput, stage: .reduce, at: InputLocation(path: InputFiles.display(store.folder)),
                         "no usable per-row gradient part for \(named.count) of \(files.count) input files: "
                             + named.prefix(10).joined(separator: ", ") + (named.count > 10 ? ", …" : "")
                             + "; run their gradient maps (tally run --shard I/N --partials DIR --gradients-from OUTPUT) again")
    }

    /// Appends the rows of the part of each of `files`, in order, to `sink`.
    static func copy(_ files: [InputFile], from store: PartialStore, digest: [UInt8], to sink: EventGradientSink) throws {
        for file in files {
            var reader = try PartReader(file: file, store: store, digest: digest, checkingContent: true)
            while let rows = try reader.next() { try sink.add(rows, of: file) }
        }
    }
}

/// Reads one part: the constructor checks the header (and the whole file's SHA-256 when
/// `checkingContent`), `next()` then gives the chunks.
private struct PartReader {
    private let handle: FileHandle
    private let path: String

    init(file: InputFile, store: PartialStore, digest: [UInt8], checkingContent: Bool) throws {
        path = store.path(of: file, kind: GradientParts.kind)
        guard let handle = FileHandle(forReadingAtPath: path) else { throw Self.damaged(path) }
        self.handle = handle
        if checkingContent { try checkTrailer() }
        var header = ByteReader(try readChunk() ?? [])
        guard (try? header.bytesValue()) == GradientParts.magic,
              (try? header.string()) == file.relativePath,
              (try? header.int64()) == file.size,
              (try? header.bytesValue()) == digest
        else { throw Self.damaged(path) }
    }

    /// Checks the trailer, the SHA-256 of everything before it; rewinds.
    private func checkTrailer() throws {
        let size = try handle.seekToEnd()
        guard size > UInt64(SHA256.byteCount) else { throw Self.damaged(path) }
        var hasher = SHA256()
        try handle.seek(toOffset: 0)
        var remaining = size - UInt64(SHA256.byteCount)
        while remaining > 0, let data = try handle.read(upToCount: Int(min(remaining, 1 << 20))), !data.isEmpty {
            data.withUnsafeBytes { hasher.update($0) }
            remaining -= UInt64(data.count)
        }
        guard remaining == 0, try handle.read(upToCount: SHA256.byteCount).map(Array.init) == hasher.finalize() else {
            throw Self.damaged(path)
        }
        try handle.seek(toOffset: 0)
    }

    /// The next chunk's rows; nil after the last.
    mutating func next() throws -> EventGradientRows? {
        guard let chunk = try readChunk() else { return nil }
        var reader = ByteReader(chunk)
        do {
            return try EventGradientRows(reading: &reader)
        } catch {
            throw Self.damaged(path)
        }
    }

    /// A length-prefixed chunk; nil for the empty one that ends the part.
    private func readChunk() throws -> [UInt8]? {
        guard let prefix = try handle.read(upToCount: 8), prefix.count == 8 else { throw Self.damaged(path) }
        var lengthReader = ByteReader(Array(prefix))
        let length = try lengthReader.int()
        guard length > 0 else { return nil }
        guard let chunk = try handle.read(upToCount: length), chunk.count == length else { throw Self.damaged(path) }
        return Array(chunk)
    }

    private static func damaged(_ path: String) -> TallyError {
        TallyError(.badInput, stage: .reduce, at: InputLocation(path: InputFiles.display(path)),
                   "not an intact per-row gradient part of this reduction")
    }
}

/// The gradient pass's sink in a gradient map: each file's rows go to its part.
final class GradientPartWriter: OrderedSink {
    private let store: PartialStore
    private let digest: [UInt8]
    /// The part being written: its temporary path, descriptor and running hash.
    private var current: (temporary: String, descriptor: Int32, hasher: SHA256)?
    /// Rows written, over every part.
    private(set) var rows = 0

    init(store: PartialStore, digest: [UInt8]) {
        self.store = store
        self.digest = digest
    }

    func add(_ output: EventGradientRows, of file: InputFile) throws {
        if current == nil { try open(file) }
        var chunk = ByteWriter()
        output.write(to: &chunk)
        try writeChunk(chunk.bytes, of: file)
        rows += output.lines.count
    }

    func endFile(_ file: InputFile, index: Int) throws {
        if current == nil { try open(file) }
        try writeChunk([], of: file)
        let (temporary, descriptor, hasher) = current!
        current = nil
        defer { Leftovers.settled(temporary) }
        let path = store.path(of: file, kind: GradientParts.kind)
        let ok = Leftovers.writeAll(descriptor, hasher.finalize()) && fsync(descriptor) == 0
        close(descriptor)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot write the per-row gradient part: \(errnoText())")
        }
    }

    /// Removes the part being written (the run failed).
    func discard() {
        guard let (temporary, descriptor, _) = current else { return }
        close(descriptor)
        unlink(temporary)
        Leftovers.settled(temporary)
        current = nil
    }

    private func open(_ file: InputFile) throws {
        let path = store.path(of: file, kind: GradientParts.kind)
        let temporary = Leftovers.temporaryPath(for: path)
        let descriptor = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            Leftovers.settled(temporary)
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot create: \(errnoText())")
        }
        current = (temporary, descriptor, SHA256())
        var header = ByteWriter()
        header.write(bytes: GradientParts.magic)
        header.write(file.relativePath)
        header.write(file.size)
        header.write(bytes: digest)
        try writeChunk(header.bytes, of: file)
    }

    private func writeChunk(_ bytes: [UInt8], of file: InputFile) throws {
        var framed = ByteWriter()
        framed.write(bytes.count)
        guard Leftovers.writeAll(current!.descriptor, framed.bytes + bytes) else {
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(store.path(of: file, kind: GradientParts.kind))),
                             "cannot write the per-row gradient part: \(errnoText())")
        }
        current!.hasher.update(framed.bytes)
        current!.hasher.update(bytes)
    }
}

extension EventGradientRows {
    func write(to out: inout ByteWriter) {
        out.write(array: lines)
        out.write(indices.count)
        for part in indices { out.write(array: part) }
        out.write(array: bins)
        out.write(array: weights)
        out.write(array: gradients)
    }

    init(reading input: inout ByteReader) throws {
        lines = try input.array(of: Int64.self)
        indices = try (0..<(try input.int())).map { _ in try input.array(of: Int32.self) }
        bins = try input.array(of: Int64.self)
        weights = try input.doubles()
        gradients = try input.doubles()
        guard input.isAtEnd, indices.allSatisfy({ $0.count == lines.count }), weights.count == lines.count,
              gradients.count == lines.count, bins.isEmpty || bins.count == lines.count
        else { throw ByteReader.Malformed() }
    }
}
