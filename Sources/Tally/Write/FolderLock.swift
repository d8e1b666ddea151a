import Foundation

/// An exclusive advisory lock (flock(2)) on a folder, held until the value goes away or the
/// process ends: runs that extend vocabularies in the same folder take turns, each reading the
/// files after the previous one wrote them back. Without it, runs started together (a backfill
/// of several days) would each extend the vocabulary they read, and the last to finish would
/// replace the others' ids, leaving their outputs indexed by a vocabulary that is gone.
final class FolderLock {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Locks every folder of `folders`, creating those that do not exist. A folder reached by
    /// two paths (a symbolic link) is locked once, and the folders are locked in the order of
    /// their device and inode, whatever their paths: two runs never hold one each while waiting
    /// for the other's. Calls `waiting` with the path of a folder another process holds, and
    /// waits for it.
    static func lockAll(_ folders: some Sequence<String>, waiting: (String) -> Void) throws -> [FolderLock] {
        var opened: [(id: [UInt64], path: String, lock: FolderLock)] = []
        for folder in folders {
            let location = InputLocation(path: InputFiles.display(folder))
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw TallyError(.cannotCreateOutput, stage: .run, at: location, "cannot create the folder: \(OutputFolder.reason(error))")
            }
            let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            var info = stat()
            guard descriptor >= 0 else {
                throw TallyError(.io, stage: .run, at: location, "cannot open the folder to lock it: \(errnoText())")
            }
            let lock = FolderLock(descriptor: descriptor)
            guard fstat(descriptor, &info) == 0 else {
                throw TallyError(.io, stage: .run, at: location, "cannot open the folder to lock it: \(errnoText())")
            }
            let id = [UInt64(info.st_dev), UInt64(info.st_ino)]
            if !opened.contains(where: { $0.id == id }) { opened.append((id, folder, lock)) }
        }
        opened.sort { $0.id.lexicographicallyPrecedes($1.id) }
        for (_, folder, lock) in opened {
            var locked = flock(lock.descriptor, LOCK_EX | LOCK_NB) == 0
            if !locked && errno == EWOULDBLOCK {
                waiting(folder)
                repeat { locked = flock(lock.descriptor, LOCK_EX) == 0 } while !locked && errno == EINTR
            }
            guard locked else {
                throw TallyError(.io, stage: .run, at: InputLocation(path: InputFiles.display(folder)),
                                 "cannot lock the folder: \(errnoText())")
            }
        }
        return opened.map(\.lock)
    }
}
