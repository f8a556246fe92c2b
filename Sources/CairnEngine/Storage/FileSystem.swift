import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin, durable file operations on top of swift-system: every failure becomes a
/// `CairnError.io` naming the path and the operation.
enum FileSystem {
    static func ioError(_ path: String, _ operation: String, _ error: Error) -> CairnError {
        if let errno = error as? Errno { return .io(path: path, operation: operation, reason: errno.description, errno: errno.rawValue) }
        return .io(path: path, operation: operation, reason: "\(error)")
    }

    static func open(_ path: String, _ mode: FileDescriptor.AccessMode, options: FileDescriptor.OpenOptions = [],
                     permissions: FilePermissions? = nil) throws -> FileDescriptor {
        do {
            return try FileDescriptor.open(FilePath(path), mode, options: options.union(.closeOnExec),
                                           permissions: permissions ?? [.ownerReadWrite, .groupRead, .otherRead])
        } catch { throw ioError(path, "open", error) }
    }

    /// Flushes a file's data (and the metadata needed to read it) to stable storage.
    static func dataSync(_ fd: FileDescriptor, path: String) throws {
        if fdatasync(fd.rawValue) != 0 { throw ioError(path, "fdatasync", Errno(rawValue: errno)) }
    }

    /// Flushes a file's data and metadata to stable storage.
    static func fullSync(_ fd: FileDescriptor, path: String) throws {
        if fsync(fd.rawValue) != 0 { throw ioError(path, "fsync", Errno(rawValue: errno)) }
    }

    /// Makes the entries of a directory (created, renamed, deleted files) durable.
    static func syncDirectory(_ path: String) throws {
        let fd = try open(path, .readOnly, options: [.directory])
        defer { try? fd.close() }
        try fullSync(fd, path: path)
    }

    static func writeAll(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        do { _ = try fd.writeAll(bytes) } catch { throw ioError(path, "write", error) }
    }

    /// Writes a whole file and fsyncs it. Fails if it exists (`exclusive`) so that immutable
    /// files are never overwritten.
    static func writeNewFile(_ path: String, _ bytes: [UInt8], exclusive: Bool = true) throws {
        let options: FileDescriptor.OpenOptions = exclusive ? [.create, .exclusiveCreate] : [.create, .truncate]
        let fd = try open(path, .writeOnly, options: options)
        do {
            try bytes.withUnsafeBytes { try writeAll(fd, $0, path: path) }
            try fullSync(fd, path: path)
            try fd.close()
        } catch {
            try? fd.close()
            throw error
        }
    }

    /// Publishes a file atomically: write a temporary sibling, fsync, rename over `path`, fsync the
    /// directory. A crash leaves either the old or the new content, never a mix.
    static func atomicReplace(_ path: String, with bytes: [UInt8]) throws {
        let temporary = path + ".tmp"
        try? FileManager.default.removeItem(atPath: temporary)
        try writeNewFile(temporary, bytes)
        try rename(temporary, to: path)
        try syncDirectory((path as NSString).deletingLastPathComponent)
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, .readOnly)
        defer { try? fd.close() }
        do {
            let size = try fd.seek(offset: 0, from: .end)
            _ = try fd.seek(offset: 0, from: .start)
            var bytes = [UInt8](repeating: 0, count: Int(size))
            let read = try bytes.withUnsafeMutableBytes { try fd.read(into: $0) }
            if read < bytes.count { bytes.removeLast(bytes.count - read) }
            return bytes
        } catch { throw ioError(path, "read", error) }
    }

    static func fileSize(_ path: String) throws -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw ioError(path, "stat", Errno(rawValue: errno)) }
        return Int(info.st_size)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func createDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        catch { throw CairnError.io(path: path, operation: "mkdir", reason: error.localizedDescription) }
    }

    /// The names in a directory, sorted; none when it does not exist. Any other failure throws:
    /// an empty list the caller took for "no files" could make it recreate or truncate one.
    static func listDirectory(_ path: String) throws -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw ioError(path, "opendir", Errno(rawValue: errno))
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw ioError(path, "readdir", Errno(rawValue: errno)) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0 && errno != ENOENT { throw ioError(path, "unlink", Errno(rawValue: errno)) }
    }

    static func truncate(_ fd: FileDescriptor, to size: Int, path: String) throws {
        if ftruncate(fd.rawValue, off_t(size)) != 0 { throw ioError(path, "ftruncate", Errno(rawValue: errno)) }
    }

    /// Gives the immutable file at `source` a second name at `destination` (a hard link), or
    /// copies it (then fsyncs the copy) when the two are on different file systems. An existing
    /// `destination` is left alone: names of immutable files are unique, so it is the same file.
    static func linkOrCopy(_ source: String, to destination: String) throws {
        if link(source, destination) == 0 || errno == EEXIST { return }
        guard errno == EXDEV || errno == EPERM || errno == EMLINK else { throw ioError(source, "link to \(destination)", Errno(rawValue: errno)) }
        try writeNewFile(destination, try readFile(source))
    }

    /// The number of names a file has (1: nobody else refers to it).
    static func linkCount(_ path: String) throws -> Int {
        var info = stat()
        if stat(path, &info) != 0 { throw ioError(path, "stat", Errno(rawValue: errno)) }
        return Int(info.st_nlink)
    }

    /// Renames `source` to `destination` (atomic within one file system).
    static func rename(_ source: String, to destination: String) throws {
        #if canImport(Glibc)
        let result = Glibc.rename(source, destination)
        #else
        let result = Darwin.rename(source, destination)
        #endif
        if result != 0 { throw ioError(source, "rename to \(destination)", Errno(rawValue: errno)) }
    }

    /// `path` without trailing slashes, `.` and `..` components (as written; links are not followed).
    static func normalized(_ path: String) -> String {
        let standardized = (path as NSString).standardizingPath
        return standardized.isEmpty ? path : standardized
    }

    /// Whether `path` is `directory` or lies inside it, comparing real paths: symbolic links
    /// are resolved for the part of `path` that exists.
    static func isInside(_ path: String, _ directory: String) -> Bool {
        func real(_ path: String) -> String {
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            var existing = normalized(absolute)
            var rest: [String] = []
            while !exists(existing), existing != "/" {
                rest.insert((existing as NSString).lastPathComponent, at: 0)
                existing = (existing as NSString).deletingLastPathComponent
            }
            let resolved = realpath(existing, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? existing
            return normalized(([resolved] + rest).joined(separator: "/"))
        }
        let inner = real(path), outer = real(directory)
        return inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }

    /// Removes a directory if it is empty; a directory that holds anything stays.
    static func removeEmptyDirectory(_ path: String) {
        _ = rmdir(path)
    }

    /// Deletes a directory tree; missing is fine.
    static func removeTree(_ path: String) throws {
        guard exists(path) else { return }
        do { try FileManager.default.removeItem(atPath: path) }
        catch { throw CairnError.io(path: path, operation: "remove", reason: error.localizedDescription) }
    }
}
