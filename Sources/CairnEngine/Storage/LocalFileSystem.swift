import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The POSIX file system: thin wrappers over the system calls, each failure a `CairnError.io`
/// naming the path, the operation and the errno.
package struct LocalFileSystem: FileSystem {
    package init() {}

    private static func failure(_ path: String, _ operation: String, _ code: Int32 = errno) -> CairnError {
        .io(path: path, operation: operation, reason: String(cString: strerror(code)), errno: code)
    }

    package func openForWriting(_ path: String, _ mode: WriteMode) throws -> any WritableFile {
        let flags: Int32
        switch mode {
        case .existing: flags = O_WRONLY
        case .createNew: flags = O_WRONLY | O_CREAT | O_EXCL
        case .createOrTruncate: flags = O_WRONLY | O_CREAT | O_TRUNC
        }
        let descriptor = open(path, flags | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure(path, "open") }
        return LocalWritableFile(path: path, descriptor: descriptor)
    }

    package func readFile(_ path: String) throws -> [UInt8] {
        try read(path) { descriptor in
            var info = stat()
            guard fstat(descriptor, &info) == 0 else { throw Self.failure(path, "stat") }
            return 0..<Int(info.st_size)
        }
    }

    package func readFile(_ path: String, range: Range<Int>) throws -> [UInt8] {
        try read(path) { _ in range }
    }

    /// Reads the bytes `range` names (fewer at the end of the file) with pread.
    private func read(_ path: String, range: (Int32) throws -> Range<Int>) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path, "open") }
        defer { close(descriptor) }
        let wanted = try range(descriptor)
        var failed = false
        // Not zero-filled first: only the bytes read are kept.
        let bytes = [UInt8](unsafeUninitializedCapacity: wanted.count) { buffer, done in
            done = 0
            while done < wanted.count {
                let count = pread(descriptor, buffer.baseAddress! + done, wanted.count - done, off_t(wanted.lowerBound + done))
                if count < 0 && errno == EINTR { continue }
                if count < 0 { failed = true }
                if count <= 0 { break }
                done += count
            }
        }
        if failed { throw Self.failure(path, "read") }
        return bytes
    }

    package func map(_ path: String) throws -> MappedFile {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path, "open") }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.failure(path, "stat") }
        let size = Int(info.st_size)
        guard size > 0 else { return MappedFile(path: path, bytes: UnsafeRawBufferPointer(start: nil, count: 0)) { _ in } }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw Self.failure(path, "mmap")
        }
        // Read in again after eviction, a large file comes back in 2 MiB folios, mapped as huge
        // pages (`FileAppender` writes in pieces that leave it so in the first place).
        if size >= 2 << 20 { _ = madvise(address, size, MADV_HUGEPAGE) }
        return MappedFile(path: path, bytes: UnsafeRawBufferPointer(start: address, count: size), release: { bytes in
            munmap(UnsafeMutableRawPointer(mutating: bytes.baseAddress!), bytes.count)
        }, evict: { range in
            // A read-only file mapping: the pages come back from the page cache when read again.
            // Only whole pages inside `range` are let go.
            let page = Int(sysconf(Int32(_SC_PAGESIZE)))
            let start = (Int(bitPattern: range.baseAddress!) + page - 1) / page * page
            let end = (Int(bitPattern: range.baseAddress!) + range.count) / page * page
            if end > start { _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
        })
    }

    package func fileSize(_ path: String) throws -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw Self.failure(path, "stat") }
        return Int(info.st_size)
    }

    package func modificationTime(_ path: String) throws -> Int64 {
        var info = stat()
        if stat(path, &info) != 0 { throw Self.failure(path, "stat") }
        return Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000
    }

    package func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    package func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    package func listDirectory(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw Self.failure(path, "opendir")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Self.failure(path, "readdir") }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    package func createDirectory(_ path: String) throws {
        if isDirectory(path) { return }
        let parent = FilePaths.parent(of: path)
        if parent != path && !exists(parent) { try createDirectory(parent) }
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw Self.failure(path, "mkdir") }
    }

    package func syncDirectory(_ path: String) throws {
        let descriptor = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path, "open") }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw Self.failure(path, "fsync") }
    }

    package func rename(_ source: String, to destination: String) throws {
        #if canImport(Glibc)
        let result = Glibc.rename(source, destination)
        #else
        let result = Darwin.rename(source, destination)
        #endif
        if result != 0 { throw Self.failure(source, "rename to \(destination)") }
    }

    package func linkOrCopy(_ source: String, to destination: String) throws {
        if link(source, destination) == 0 || errno == EEXIST { return }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else { throw Self.failure(source, "link to \(destination)") }
        try copyFile(source, to: destination)
    }

    package func createLink(_ source: String, to destination: String) throws {
        if link(source, destination) != 0 { throw Self.failure(source, "link to \(destination)") }
    }

    package func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw Self.failure(path, "unlink") }
    }

    package func removeEmptyDirectory(_ path: String) {
        _ = rmdir(path)
    }

    package func linkCount(_ path: String) throws -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw Self.failure(path, "stat") }
        return Int(info.st_nlink)
    }

    package func lockDirectory(_ directory: String) throws -> any DirectoryLock {
        let path = directory + "/LOCK"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure(path, "open") }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(descriptor)
            if code == EWOULDBLOCK { throw CairnError.databaseLocked(path: directory) }
            throw Self.failure(path, "flock", code)
        }
        return LocalDirectoryLock(descriptor: descriptor)
    }

    package func isLocked(_ directory: String) -> Bool {
        let descriptor = open(directory + "/LOCK", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        if flock(descriptor, LOCK_SH | LOCK_NB) != 0 { return errno == EWOULDBLOCK }
        _ = flock(descriptor, LOCK_UN)
        return false
    }
}

/// A file descriptor open for writing.
final class LocalWritableFile: WritableFile {
    let path: String
    private let descriptor: Int32
    /// Set by the first `close()`: a descriptor closed twice could be another file's by then.
    private let isClosed = Atomic(false)

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    private func failure(_ operation: String, _ code: Int32 = errno) -> CairnError {
        .io(path: path, operation: operation, reason: String(cString: strerror(code)), errno: code)
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let count = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw failure("write", count == 0 ? EIO : errno) }
            done += count
        }
    }

    func truncate(to size: Int) throws {
        if ftruncate(descriptor, off_t(size)) != 0 { throw failure("ftruncate") }
    }

    func dataSync() throws {
        if fdatasync(descriptor) != 0 { throw failure("fdatasync") }
    }

    func fullSync() throws {
        if fsync(descriptor) != 0 { throw failure("fsync") }
    }

    func close() {
        guard isClosed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }

    deinit { close() }
}

/// A held `flock` on `<data>/LOCK`; the kernel releases it when the process dies.
final class LocalDirectoryLock: DirectoryLock {
    private let descriptor: Int32
    /// Set by the first `release()`: releasing twice must not close a descriptor that another
    /// database (or any file) has been given since.
    private let isReleased = Atomic(false)

    init(descriptor: Int32) { self.descriptor = descriptor }

    func release() {
        guard isReleased.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        _ = flock(descriptor, LOCK_UN)
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }
}
