import Dispatch
import Foundation

/// A folder of per-file partials: the state cache (`run.state_dir`, `--state`), where a file's
/// partial is reused when its path, size and content and the settings that shape it are
/// unchanged, and the partials folder of a sharded run (`--partials`), which the shards' maps
/// fill and `tally reduce` folds.
///
/// An entry is `<settings>-<path digest>.partial` (`InputFile.entryName`): the file's path, size, modification time, the N of
/// the shard map that made it (0 outside sharded runs) and SHA-256, then the encoded partial
/// (which ends with its own SHA-256). Entries are written to a temporary name and renamed, so a killed run leaves either
/// the old entry or the new one, and a retried or duplicated shard task writes the same bytes
/// again; a damaged or foreign entry is a miss, never an error. Saving (hashing the file and
/// writing the entry) runs off the fold queue; `finish()` waits for it.
final class PartialStore: @unchecked Sendable {
    /// How an entry is matched to its file.
    enum Check {
        /// Path, size and SHA-256 of the content: the file is read to hash it.
        case content
        /// Path, size and modification time, for `tally reduce`, which must not read the logs
        /// again (the maps hashed them when they wrote the entries).
        case metadata
    }

    // Confinement: `failure` only under `lock`; everything else is immutable after init.
    let folder: String
    /// The digest of the counting settings that starts every entry's name.
    let settings: String
    private let roles: Int
    private let channels: Int
    private let queue = DispatchQueue(label: "tally.state", qos: .utility)
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: TallyError?
    /// The N of the shard map saving entries here (0 outside sharded runs).
    private let shards: Int
    static let entryMagic = Array("TALLYPE3".utf8)

    /// - Parameters:
    ///   - existing: the folder must exist already (`tally reduce` and the gradient maps read
    ///     what the maps wrote); else it is created.
    ///   - shards: the N of the shard map that saves entries here, recorded in each.
    init(folder: String, pipeline: Pipeline, inputs: RunInputs, existing: Bool = false, shards: Int = 0) throws {
        // An input that is one of the folder's entries would be read as a log. The check of the
        // pipeline file catches the patterns that match entries of any name; this, the rest.
        let absolute = PathText.resolve(folder, against: InputFiles.currentDirectory())
        if let file = inputs.files.first(where: { PipelineChecks.isInside($0.path, folder: absolute) && Self.isEntry($0.path) }) {
            let stateDir = pipeline.run.stateDir.flatMap { PathText.normalize($0.value) == absolute ? $0 : nil }
            throw TallyError(stateDir == nil ? .usage : .config, stage: .pipeline, at: stateDir?.location,
                             "input.paths matches \(InputFiles.display(file.path)), a file of the folder of partials "
                                 + "\(InputFiles.display(absolute)): keep the inputs out of it")
        }
        self.folder = folder
        self.shards = shards
        self.settings = String(Self.fingerprint(pipeline, roles: inputs.roles).prefix(16))
        self.roles = inputs.roles.count
        self.channels = Channels(pipeline).count
        var isFolder: ObjCBool = false
        if existing, !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) || !isFolder.boolValue {
            throw TallyError(.noInput, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                             "no such folder of partials (check the path: the shards' maps, tally run --shard I/N --partials DIR, create it)")
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                             "cannot create the folder of partials: \(OutputFolder.reason(error))")
        }
        Leftovers.remove(in: folder)
    }

    /// Whether `path` names a file Tally keeps in a folder of partials.
    static func isEntry(_ path: String) -> Bool {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return ["partial", "grads", GradientModel.kind].contains { name.hasSuffix(".\($0)") } || name.contains(Leftovers.marker)
    }

    /// The stored partials of `files` that match them by content, by file index. An entry whose
    /// modification time is not the file's (it was touched or copied) is saved again with the
    /// new time, so that `tally reduce` accepts it.
    func lookup(_ files: [InputFile]) -> [Int: FilePartial] {
        var found: [Int: FilePartial] = [:]
        for (index, file) in files.enumerated() {
            guard let entry = entry(of: file, check: .content) else { continue }
            found[index] = entry.partial
            if entry.modified != file.modified { save(file, entry.partial) }
        }
        return found
    }

    /// The partial of every one of `files`, by file index (for `tally reduce`); exit 65 naming
    /// the files whose partial is missing, damaged, out of date or was made with other settings.
    func require(_ files: [InputFile]) throws -> [Int: FilePartial] {
        var found: [Int: FilePartial] = [:], shardCounts = Set<Int>()
        for (index, file) in files.enumerated() {
            guard let entry = entry(of: file, check: .metadata) else { continue }
            found[index] = entry.partial
            shardCounts.insert(entry.shards)
        }
        let missing = files.indices.filter { found[$0] == nil }.map { files[$0] }
        guard !missing.isEmpty else { return found }
        let names = Set((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
        let described = missing.prefix(10).map { file in
            let path = "'\(file.displayPath)'"
            if names.contains(file.entryName(settings: settings)) {
                return path + " (changed since its partial was made: another size or modification time, as a touch gives; "
                    + "or the partial is damaged or made by another version of tally)"
            }
            let pathPart = file.entryName(settings: "")
            return names.contains { $0.hasSuffix(pathPart) } ? path + " (made with other counting settings)" : path + " (missing)"
        }
        let more = missing.count > 10 ? "; and \(missing.count - 10) more" : ""
        let mixed = shardCounts.count > 1
            ? "; the partials here come from maps with different shard counts (N = \(shardCounts.sorted().map(String.init).joined(separator: ", "))): every map must use the same N"
            : ""
        throw TallyError(.badInput, stage: .reduce, at: InputLocation(path: InputFiles.display(folder)),
                         "no usable partial for \(missing.count) of \(files.count) input files: "
                             + described.joined(separator: ", ") + more + mixed
                             + "; run their shards' maps (tally run --shard I/N --partials) first")
    }

    private func entry(of file: InputFile, check: Check) -> (partial: FilePartial, modified: Int64, shards: Int)? {
        guard let bytes = FileManager.default.contents(atPath: entryPath(file)).map(Array.init) else { return nil }
        var reader = ByteReader(bytes)
        guard (try? reader.bytesValue()) == Self.entryMagic,
              (try? reader.string()) == file.relativePath,
              (try? reader.int64()) == file.size,
              let modified = try? reader.int64(),
              let shards = try? reader.int(),
              let hash = try? reader.bytesValue(),
              check == .metadata ? modified == file.modified : hash == (try? Self.contentHash(file)),
              let partial = FilePartial.decoded(Array(bytes[reader.position...]), roles: roles, channels: channels)
        else { return nil }
        return (partial, modified, shards)
    }

    /// Saves `partial` as the entry of `file`, in the background.
    func save(_ file: InputFile, _ partial: FilePartial) {
        group.enter()
        queue.async { [self] in
            defer { group.leave() }
            do {
                var entry = ByteWriter()
                entry.write(bytes: Self.entryMagic)
                entry.write(file.relativePath)
                entry.write(file.size)
                entry.write(file.modified)
                entry.write(shards)
                entry.write(bytes: try Self.contentHash(file))
                try Leftovers.writeAtomically(entry.bytes + partial.encoded(), to: entryPath(file))
            } catch {
                lock.withLock {
                    if failure == nil {
                        failure = error as? TallyError ?? TallyError(.io, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                                                                      "cannot save a partial: \(error)")
                    }
                }
            }
        }
    }

    /// Waits for every save; throws the first failure.
    func finish() throws {
        group.wait()
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// Runs `body` (which saves partials); waits for the saves even when it throws, so that a
    /// failed run leaves no half-written temporary behind.
    func saving<Result>(_ body: () throws -> Result) throws -> Result {
        let result: Result
        do {
            result = try body()
        } catch {
            group.wait()
            throw error
        }
        try finish()
        return result
    }

    /// Saves the row-gradient model of a reduction, for the gradient maps.
    func save(_ model: GradientModel) throws {
        try Leftovers.writeAtomically(model.encoded(), to: "\(folder)/\(settings).\(GradientModel.kind)")
    }

    /// The row-gradient model `tally reduce` saved: exit 66 when there is none, 65 when it is
    /// damaged.
    func model(_ pipeline: Pipeline, _ inputs: RunInputs) throws -> GradientModel {
        let path = "\(folder)/\(settings).\(GradientModel.kind)"
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw TallyError(.noInput, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                             "no row-gradient model for these settings here: run tally reduce first")
        }
        guard let model = GradientModel.decoded(Array(bytes), pipeline: pipeline, inputs: inputs) else {
            throw TallyError(.badInput, stage: .run, at: InputLocation(path: InputFiles.display(path)),
                             "not an intact row-gradient model: run tally reduce again")
        }
        return model
    }

    /// Removes the entries made with the same settings for files that are no longer inputs.
    func prune(keeping files: [InputFile]) {
        let keep = Set(files.map { $0.entryName(settings: settings) })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(settings + "-") && name.hasSuffix(".partial") && !keep.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
        }
    }

    private func entryPath(_ file: InputFile) -> String { path(of: file, kind: "partial") }

    /// The path of `file`'s entry of `kind` (`partial`, or `grads` for a gradient part).
    func path(of file: InputFile, kind: String) -> String { "\(folder)/\(file.entryName(settings: settings, kind: kind))" }

    /// The SHA-256 of a file's bytes on disk, read in 1 MiB pieces.
    static func contentHash(_ file: InputFile) throws -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw TallyError(.io, stage: .read, at: InputLocation(path: file.displayPath), "cannot read the file to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            chunk.withUnsafeBytes { hasher.update($0) }
        }
        return hasher.finalize()
    }

    /// A digest of every setting that shapes a file's partial: how rows are read, filtered,
    /// tokenized, weighted, decayed and binned, which roles and channels are kept — but not the
    /// vocabulary, the loss or the outputs, which apply after the fold. The leading version
    /// changes whenever Tally reads the same bytes into another partial (2: `.zst` files are
    /// zstd by their name; bad rows of the wrong width have a column), so that no partial of an
    /// older reader is reused.
    static func fingerprint(_ pipeline: Pipeline, roles: [Role]) -> String {
        let input = pipeline.input, count = pipeline.count
        var text = "tally-partial-2|header=\(input.header)|delimiter=\(input.delimiter)"
        text += "|columns=" + Pipeline.ColumnRole.allCases.map { "\($0.rawValue):\(input.columns[$0].map { "\($0.value)" } ?? "-")" }.joined(separator: ",")
        text += "|time_format=\(input.timeFormat.rawValue)"
        text += "|where=" + input.filters.map { "\($0.column.value)=\($0.values.joined(separator: "\u{1F}"))" }.joined(separator: "\u{1E}")
        text += "|bad_rows=\(input.badRows.policy.rawValue)|max_field_bytes=\(input.maxFieldBytes)|roles=\(roles.map(\.rawValue))"
        text += "|key=\(RunInputs.countedKey(pipeline).map(\.rawValue))"
        switch count.weight {
        case .one: text += "|weight=1"
        case .column(let column): text += "|weight=column:\(column.value)"
        case .events(let table, let fallback):
            text += "|weight=events:" + table.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.bitPattern)" }.joined(separator: ",")
            text += ";default=\(fallback.bitPattern)"
        }
        if let decay = count.decay { text += "|half_life=\(decay.halfLife.bitPattern)" }
        if let bins = count.timeBins {
            text += "|bins=\(bins.width.bitPattern),\(bins.origin.bitPattern),\(bins.kernel.rawValue),\(bins.bandwidth.bitPattern)"
        }
        text += "|channels=\(Channels(pipeline).decay != nil),\(Channels(pipeline).bandwidth != nil)"
        return SHA256.hex(SHA256.hash(Array(text.utf8)))
    }
}

extension InputFile {
    /// The name of this file's entry of `kind` in a folder of partials: the settings digest,
    /// then a digest of the file's path (as outputs write it).
    func entryName(settings: String, kind: String = "partial") -> String {
        "\(settings)-\(SHA256.hex(SHA256.hash(Array(relativePath.utf8))).prefix(24)).\(kind)"
    }
}
