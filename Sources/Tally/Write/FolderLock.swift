import Foundation

/// An exclusive advisory lock (flock(2)) on a folder, held until the value goes away or the
/// process ends: runs that extend vocabularies in the same folder take turns, each reading the
/// files after the previous one wrote them back. Without it, runs started together (a backfill
/// of several days) would each extend the vocabulary they read, and the last to finish would
/// replace the others' ids, leaving their outputs indexed by a vocabulary that is gone.
final class FolderLock {
    private let descriptor: Int32

    /// Creates `folder` if need be and locks it; when another process holds the lock, calls
    /// `waiting` once and waits for it.
    init(_ folder: String, waiting: () -> Void) throws {
        let location = InputLocation(path: InputFiles.display(folder))
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw TallyError(.cannotCreateOutput, stage: .run, at: location, "cannot create the folder: \(OutputFolder.reason(error))")
        }
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TallyError(.io, stage: .run, at: location, "cannot open the folder to lock it: \(errnoText())")
        }
        var locked = flock(descriptor, LOCK_EX | LOCK_NB) == 0
        if !locked && errno == EWOULDBLOCK {
            waiting()
            repeat { locked = flock(descriptor, LOCK_EX) == 0 } while !locked && errno == EINTR
        }
        guard locked else {
            let error = TallyError(.io, stage: .run, at: location, "cannot lock the folder: \(errnoText())")
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
