/// Every file operation the engine makes goes through one of these, chosen by
/// `EngineOptions.fileSystem`: `LocalFileSystem` (POSIX) in production, and in tests a file
/// system that forgets what was never synced, to prove durability below the process
/// (`CrashSimulatingFileSystem` in CairnTestSupport). Failures are `CairnError.io` naming the
/// path and the operation, with the errno when there is one.
package protocol FileSystem: Sendable {
    /// Opens a file for positional writes.
    func openForWriting(_ path: String, _ mode: WriteMode) throws -> any WritableFile
    /// A whole file's bytes.
    func readFile(_ path: String) throws -> [UInt8]
    /// Bytes `range` of a file (fewer when the file ends first), read without mapping it.
    func readFile(_ path: String, range: Range<Int>) throws -> [UInt8]
    /// A read-only view of a whole immutable file (a memory mapping where there is one).
    func map(_ path: String) throws -> MappedFile
    func fileSize(_ path: String) throws -> Int
    /// When the file's data last changed, in ms since the epoch.
    func modificationTime(_ path: String) throws -> Int64
    func exists(_ path: String) -> Bool
    func isDirectory(_ path: String) -> Bool
    /// The names in a directory, sorted; none when it does not exist. Any other failure throws:
    /// an empty list a caller took for "no files" could make it recreate or truncate one.
    func listDirectory(_ path: String) throws -> [String]
    /// Creates a directory and any missing parents (not durable until their parents are synced).
    func createDirectory(_ path: String) throws
    /// Makes the entries of a directory (created, renamed, deleted names) durable.
    func syncDirectory(_ path: String) throws
    /// Renames atomically within one file system (durable once both directories are synced).
    func rename(_ source: String, to destination: String) throws
    /// Gives the immutable file `source` a second name (a hard link), or copies it and syncs the
    /// copy where links are impossible. An existing `destination` is left alone: names of
    /// immutable files are unique, so it is the same file.
    func linkOrCopy(_ source: String, to destination: String) throws
    /// Gives `source` the second name `destination` (a hard link), failing with `EEXIST` when
    /// that name exists: publishing a finished temporary file this way is an atomic
    /// create-if-absent.
    func createLink(_ source: String, to destination: String) throws
    /// Removes a name; a missing one is fine.
    func remove(_ path: String) throws
    /// Removes a directory if it is empty; one that holds anything stays.
    func removeEmptyDirectory(_ path: String)
    /// The number of names a file has (1: nobody else refers to it).
    func linkCount(_ path: String) throws -> Int
    /// Takes the exclusive lock of a data directory (`<directory>/LOCK`) without waiting:
    /// `CairnError.databaseLocked` when another holder has it.
    func lockDirectory(_ directory: String) throws -> any DirectoryLock
    /// Whether someone holds the lock of `directory`.
    func isLocked(_ directory: String) -> Bool
}

/// How `FileSystem.openForWriting` treats the file.
package enum WriteMode: Sendable {
    /// The file must exist.
    case existing
    /// The file must not exist (immutable files are never overwritten).
    case createNew
    /// Created, or emptied when it exists.
    case createOrTruncate
}

/// A file open for writing. Writes are not durable until a sync.
package protocol WritableFile: AnyObject {
    var path: String { get }
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws
    func truncate(to size: Int) throws
    /// Makes the data (and the size needed to read it) durable: `fdatasync`.
    func dataSync() throws
    /// Makes data and metadata durable: `fsync`.
    func fullSync() throws
    func close()
}

/// The held lock of a data directory; released by `release()` (once; later calls do nothing)
/// or when the process ends.
package protocol DirectoryLock: Sendable {
    func release()
}

extension FileSystem {
    /// Writes a whole file and fsyncs it. With `exclusive` it fails if the file exists, so that
    /// immutable files are never overwritten.
    package func writeNewFile(_ path: String, _ bytes: [UInt8], exclusive: Bool = true) throws {
        let file = try openForWriting(path, exclusive ? .createNew : .createOrTruncate)
        defer { file.close() }
        try bytes.withUnsafeBytes { try file.write($0, at: 0) }
        try file.fullSync()
    }

    /// Copies `source` into the new file `destination` through a mapping, a chunk at a time
    /// (never the whole file in memory), and fsyncs the copy.
    package func copyFile(_ source: String, to destination: String) throws {
        let output = try openForWriting(destination, .createNew)
        defer { output.close() }
        try map(source).withBytes { input in
            let chunk = 8 << 20
            var start = 0
            while start < input.count {
                try output.write(UnsafeRawBufferPointer(rebasing: input[start..<min(start + chunk, input.count)]), at: start)
                start += chunk
            }
        }
        try output.fullSync()
    }

    /// Publishes a file atomically: write a temporary sibling, fsync, rename over `path`, fsync
    /// the directory. A crash leaves either the old or the new content, never a mix.
    package func atomicReplace(_ path: String, with bytes: [UInt8]) throws {
        let temporary = path + ".tmp"
        try remove(temporary)
        try writeNewFile(temporary, bytes)
        try rename(temporary, to: path)
        try syncDirectory(FilePaths.parent(of: path))
    }

    /// Syncs each of `folders` and every directory between it and `root` (`root` included):
    /// after a tree of new directories is filled, every name on the way down must be durable.
    package func syncDirectories(_ folders: some Sequence<String>, upTo root: String) throws {
        var synced = Set<String>()
        for folder in folders {
            var current = folder
            while synced.insert(current).inserted {
                try syncDirectory(current)
                guard current.count > root.count else { break }
                current = FilePaths.parent(of: current)
            }
        }
    }

    /// Deletes a directory tree; missing is fine.
    package func removeTree(_ path: String) throws {
        guard exists(path) else { return }
        guard isDirectory(path) else { return try remove(path) }
        for name in try listDirectory(path) { try removeTree(path + "/" + name) }
        removeEmptyDirectory(path)
        if exists(path) { throw CairnError.io(path: path, operation: "rmdir", reason: "the directory could not be removed") }
    }
}

extension FileSystem where Self == LocalFileSystem {
    /// The POSIX file system.
    package static var local: LocalFileSystem { LocalFileSystem() }
}
