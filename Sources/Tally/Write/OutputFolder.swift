import Foundation
internal import CLinux

/// The output folder of a run, written beside its final place and published in one step.
///
/// Files are written into a hidden temporary folder in the same parent folder
/// (`.NAME.tally-tmp-HOST.PID.NONCE`, see `Leftovers`; those of killed runs are removed first); `publish()` swaps it with the previous output atomically
/// (`renameat2` with `RENAME_EXCHANGE`) and then removes the previous output, so a reader sees
/// either the old folder or the new one, never a mix. `discard()` removes the temporary folder;
/// a failed run never touches the published output.
final class OutputFolder {
    /// The folder's final path.
    let path: String
    /// The temporary folder being filled.
    let temporaryPath: String

    /// The files a run writes into its output folder: `vocab_<role>.parquet` and these.
    static let fileNames: Set<String> = ["counts.parquet", "summary.json", "target_grad.parquet", "event_grads.parquet",
                                         "quarantine.parquet", "bags.parquet", "embedding_grad.parquet"]

    /// Whether `name` in `folder` is a file a run writes: a regular file (not a folder or a link)
    /// of one of those names.
    static func isOutputFile(_ name: String, in folder: String) -> Bool {
        guard fileNames.contains(name) || (name.hasPrefix("vocab_") && name.hasSuffix(".parquet")) else { return false }
        var info = stat()
        return lstat(folder + "/" + name, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }

    /// Throws `.cannotCreateOutput` unless the folder `folder` (shown as `path`) holds only
    /// files a run writes: replacing it must never delete anything else.
    private static func requireOnlyOutputFiles(in folder: String, shownAs path: String) throws -> [String] {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot list the output folder: \(reason(error))")
        }
        let foreign = entries.filter { !isOutputFile($0, in: folder) }.sorted()
        guard foreign.isEmpty else {
            let shown = foreign.prefix(3).map { "'\($0)'" }.joined(separator: ", ") + (foreign.count > 3 ? ", …" : "")
            let (count, them) = foreign.count == 1 ? ("1 entry", "it") : ("\(foreign.count) entries", "them")
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "the output folder holds \(count) that Tally does not write (\(shown)), and a run "
                             + "replaces the whole folder: stopped rather than delete \(them); choose another output.dir, or empty this one")
        }
        return entries
    }

    /// Creates the temporary folder (and the parent folders of `path`). Throws
    /// `.cannotCreateOutput` when `path` is no folder, or a folder holding anything a run does not
    /// write: publishing replaces the whole folder, and must never delete what Tally did not write
    /// (another day's outputs under a folder named by an empty variable, a vocabulary file, notes).
    init(path: String) throws {
        self.path = path
        let parent = URL(fileURLWithPath: path).deletingLastPathComponent().path
        temporaryPath = Leftovers.temporaryPath(for: path)
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else {
                throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                                 "the output path exists and is not a folder")
            }
            _ = try Self.requireOnlyOutputFiles(in: path, shownAs: path)
        }
        do {
            try Self.makeFolders(parent)
            Leftovers.remove(in: parent)
            if FileManager.default.fileExists(atPath: temporaryPath) {
                try FileManager.default.removeItem(atPath: temporaryPath)
            }
            try FileManager.default.createDirectory(atPath: temporaryPath, withIntermediateDirectories: false)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot create the output folder: \((error as? FolderError)?.description ?? Self.reason(error))")
        }
    }

    /// The path of `file` inside the temporary folder.
    func file(_ name: String) -> String { "\(temporaryPath)/\(name)" }

    /// Moves the temporary folder into place, replacing any previous output.
    func publish() throws {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        let exists = manager.fileExists(atPath: path, isDirectory: &isFolder)
        do {
            defer { Leftovers.settled(temporaryPath) }
            if !exists {
                try manager.moveItem(atPath: temporaryPath, toPath: path)
                return
            }
            guard isFolder.boolValue else {
                throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                                 "the output path exists and is not a folder")
            }
            if tally_rename_exchange(temporaryPath, path) != 0 {
                throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                                 "cannot replace the previous output: \(errnoText())")
            }
            // The temporary path now holds the previous output. Checked again, for what came
            // into it while the run went on (another run's output, under a folder an empty
            // variable named): then it goes back in place and this run's output goes.
            let previous: [String]
            do { previous = try Self.requireOnlyOutputFiles(in: temporaryPath, shownAs: path) } catch {
                if tally_rename_exchange(temporaryPath, path) == 0 { try? manager.removeItem(atPath: temporaryPath) }
                throw error
            }
            // Taken apart file by file, never removed whole: whatever might still come in stays.
            for name in previous { unlink(temporaryPath + "/" + name) }
            rmdir(temporaryPath)
        } catch let error as TallyError {
            throw error
        } catch {
            throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)), "cannot publish the output: \(Self.reason(error))")
        }
    }

    /// Removes the temporary folder and everything in it.
    func discard() {
        try? FileManager.default.removeItem(atPath: temporaryPath)
        Leftovers.settled(temporaryPath)
    }

    static func reason(_ error: Error) -> String {
        (error as NSError).localizedFailureReason ?? (error as NSError).localizedDescription
    }

    /// Why a folder could not be made, in the system's words and naming the folder (Foundation's
    /// own text can be "The operation could not be completed. (NSCocoaErrorDomain error 512.)").
    private struct FolderError: Error, CustomStringConvertible {
        var description: String
    }

    /// Creates the absolute folder `path` and those above it that are missing, as `mkdir -p`.
    private static func makeFolders(_ path: String) throws {
        var folder = ""
        for component in PathText.components(path) {
            folder += "/" + component
            var info = stat()
            if stat(folder, &info) == 0 {
                guard info.st_mode & S_IFMT == S_IFDIR else { throw FolderError(description: "\(InputFiles.display(folder)) is not a folder") }
                continue
            }
            if mkdir(folder, 0o777) != 0 && errno != EEXIST {
                throw FolderError(description: "cannot make \(InputFiles.display(folder)): \(errnoText())")
            }
        }
    }
}
