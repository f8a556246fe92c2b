import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive `flock` on `<data>/LOCK`: one writer process per data directory. The kernel
/// releases it when the process dies, so a crash never leaves a stale lock.
final class DirectoryLock: Sendable {
    private let descriptor: FileDescriptor

    init(directory: String) throws {
        let path = directory + "/LOCK"
        descriptor = try FileSystem.open(path, .readWrite, options: [.create])
        if flock(descriptor.rawValue, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            try? descriptor.close()
            if code == EWOULDBLOCK { throw CairnError.databaseLocked(path: directory) }
            throw FileSystem.ioError(path, "flock", Errno(rawValue: code))
        }
    }

    /// Whether a process holds `directory` open (its LOCK is taken). Never creates the file.
    static func isHeld(directory: String) -> Bool {
        let fd = open(directory + "/LOCK", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        _ = flock(fd, LOCK_UN)
        return false
    }

    func release() {
        _ = flock(descriptor.rawValue, LOCK_UN)
        try? descriptor.close()
    }
}
