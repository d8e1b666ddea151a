import Dispatch
import Foundation

/// The state cache (`run.state_dir`, `--state`): one partial per input file, reused when the
/// file's path, size and content and the settings that shape its partial are unchanged.
///
/// An entry is `<settings>-<path>.partial`: the file's path, size and SHA-256, then the encoded
/// partial. Entries are written to a temporary name and renamed, so a killed run leaves either
/// the old entry or the new one; a damaged or foreign entry is a miss, never an error. Saving
/// (hashing the file and writing the entry) runs off the fold queue; `finish()` waits for it.
final class StateCache: @unchecked Sendable {
    // Confinement: `failure` only under `lock`; everything else is immutable after init.
    let folder: String
    private let settings: String
    private let roles: Int
    private let channels: Int
    private let queue = DispatchQueue(label: "tally.state", qos: .utility)
    private let group = DispatchGroup()
    private let lock = NSLock()
    private var failure: TallyError?
    static let entryMagic = Array("TALLYSC1".utf8)

    init(folder: String, pipeline: Pipeline, roles: [Role], channels: Int) throws {
        self.folder = folder
        self.settings = String(Self.fingerprint(pipeline, roles: roles).prefix(16))
        self.roles = roles.count
        self.channels = channels
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                             "cannot create the state folder: \(OutputFolder.reason(error))")
        }
        Leftovers.remove(in: folder)
    }

    /// The cached partials of `files` that can be reused, by file index.
    func lookup(_ files: [InputFile]) -> [Int: FilePartial] {
        var found: [Int: FilePartial] = [:]
        for (index, file) in files.enumerated() {
            guard let bytes = FileManager.default.contents(atPath: entryPath(file)).map(Array.init) else { continue }
            var reader = ByteReader(bytes)
            guard (try? reader.bytesValue()) == Self.entryMagic,
                  (try? reader.string()) == file.relativePath,
                  (try? reader.int64()) == file.size,
                  let hash = try? reader.bytesValue(),
                  hash == (try? Self.contentHash(file)),
                  let partial = FilePartial.decoded(Array(bytes[reader.position...]), roles: roles, channels: channels)
            else { continue }
            found[index] = partial
        }
        return found
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
                entry.write(bytes: try Self.contentHash(file))
                try Leftovers.writeAtomically(entry.bytes + partial.encoded(), to: entryPath(file))
            } catch {
                lock.withLock {
                    if failure == nil {
                        failure = error as? TallyError ?? TallyError(.io, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                                                                      "cannot save to the state folder: \(error)")
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

    /// Removes the entries made with the same settings for files that are no longer inputs.
    func prune(keeping files: [InputFile]) {
        let keep = Set(files.map { ($0.entryName(settings: settings)) })
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(settings + "-") && name.hasSuffix(".partial") && !keep.contains(name) {
            try? FileManager.default.removeItem(atPath: "\(folder)/\(name)")
        }
    }

    private func entryPath(_ file: InputFile) -> String { "\(folder)/\(file.entryName(settings: settings))" }

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
    /// vocabulary, the loss or the outputs, which apply after the fold.
    static func fingerprint(_ pipeline: Pipeline, roles: [Role]) -> String {
        let input = pipeline.input, count = pipeline.count
        var text = "tally-partial-1|header=\(input.header)|delimiter=\(input.delimiter)"
        text += "|columns=" + Pipeline.ColumnRole.allCases.map { "\($0.rawValue):\(input.columns[$0].map { "\($0.value)" } ?? "-")" }.joined(separator: ",")
        text += "|time_format=\(input.timeFormat.rawValue)"
        text += "|where=" + input.filters.map { "\($0.column.value)=\($0.values.joined(separator: "\u{1F}"))" }.joined(separator: "\u{1E}")
        text += "|bad_rows=\(input.badRows.policy.rawValue)|roles=\(roles.map(\.rawValue))"
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
    /// The name of this file's entry in a state folder: the settings digest, then a digest of
    /// the file's path (as outputs write it).
    func entryName(settings: String) -> String {
        "\(settings)-\(SHA256.hex(SHA256.hash(Array(relativePath.utf8))).prefix(24)).partial"
    }
}
