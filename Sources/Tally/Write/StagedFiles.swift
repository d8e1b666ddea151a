import Foundation

/// Files written beside their places under temporary names, renamed into place together once
/// the rest of a run has succeeded (`commit`), or removed (`discard`): a run that fails before
/// `commit` leaves the files it would replace as they were.
struct StagedFiles {
    private var staged: [(temporary: String, path: String)] = []

    /// Creates `path`'s folder if need be, clears it of abandoned temporaries, and has `write`
    /// write the file's contents at the temporary path it is given.
    mutating func stage(_ path: String, write: (String) throws -> Void) throws {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder.isEmpty ? "." : folder, withIntermediateDirectories: true)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                             "cannot create the file's folder")
        }
        Leftovers.remove(in: folder.isEmpty ? "." : folder)
        let temporary = Leftovers.temporaryPath(for: path)
        staged.append((temporary, path))
        try write(temporary)
    }

    /// Renames every staged file into place, in the order staged.
    mutating func commit() throws {
        defer { discard() }
        for (temporary, path) in staged {
            guard rename(temporary, path) == 0 else {
                throw TallyError(.io, stage: .write, at: InputLocation(path: InputFiles.display(path)),
                                 "cannot replace the file: \(errnoText())")
            }
            Leftovers.settled(temporary)
        }
        staged.removeAll()
    }

    /// Removes the staged files not yet renamed.
    mutating func discard() {
        for (temporary, _) in staged {
            unlink(temporary)
            Leftovers.settled(temporary)
        }
        staged.removeAll()
    }
}
