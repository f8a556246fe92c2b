import CairnEngine
import Foundation
import Synchronization

/// An in-memory file system that knows what a power cut would keep (after Pebble's strict
/// `MemFS` and RocksDB's fault-injection file system).
///
/// For every file it keeps the bytes made durable by the last sync of that file and the writes
/// since; for every directory the names made durable by the last sync of that directory.
/// `crash()` throws the rest away: a name whose directory was not synced since it was created,
/// renamed or removed goes back to what the last sync saw, and of a file's unsynced writes a
/// seeded subset survives, in order, the last one kept perhaps only as a torn prefix (a disk
/// reorders and tears what it was not told to make durable).
///
/// `cutPower(afterOperations:)` makes every operation from the k-th change on fail, as a machine
/// that lost power does; `inject(_:)` makes one kind of operation fail with an errno.
/// Thread-safe: the engine's threads share one instance.
package final class CrashSimulatingFileSystem: FileSystem, @unchecked Sendable {
    /// A file's contents: what a read sees, what survives a crash, and the writes in between.
    final class Inode {
        var data: [UInt8] = []
        var durable: [UInt8] = []
        var pending: [Change] = []
        var everSynced = false
        /// When the data last changed, in ms since the epoch (what `modificationTime` reports;
        /// like a real file system's, it is not rolled back by a crash).
        var modified = Clock.milliseconds()
    }

    enum Change {
        case write(offset: Int, bytes: [UInt8])
        case truncate(size: Int)
    }

    /// A directory: the names a lookup sees, and the names that survive a crash.
    final class Directory {
        var entries: [String: Node] = [:]
        var durable: [String: Node] = [:]
    }

    enum Node {
        case file(Inode)
        case directory(Directory)
    }

    /// The kinds of operation a fault can target.
    package enum Operation: String, Sendable {
        case write, sync, rename, list, create, remove, link
    }

    /// A fault to inject.
    package enum Fault: Sendable {
        /// The `nth` operation of this kind from now fails with `errno` (once).
        case fail(Operation, nth: Int, errno: Int32)
        /// Writes fail with ENOSPC once this many more bytes have been written.
        case noSpace(afterBytes: Int)
    }

    private let lock = NSLock()
    private let root = Directory()
    private var locked: Set<String> = []
    private var random: SeededGenerator
    private var changeCount = 0
    private var powerCutAt: Int?
    private var faults: [(fault: Fault, remaining: Int)] = []
    private var bytesWritten = 0

    /// A file system whose crashes are decided by `seed`.
    package init(seed: UInt64) {
        random = SeededGenerator(seed: seed)
    }

    // MARK: Test controls

    /// Operations that change something, counted since the file system was made.
    package var changesMade: Int { lock.withLock { changeCount } }

    /// Every change from the `count`-th on (counting from now, 0-based) fails, like a machine
    /// whose power is gone. Reads keep working, so the engine can wind down.
    package func cutPower(afterOperations count: Int) {
        lock.withLock { powerCutAt = changeCount + count }
    }

    /// Whether the power is cut.
    package var isPowerCut: Bool { lock.withLock { powerCutAt.map { changeCount >= $0 } ?? false } }

    package func inject(_ fault: Fault) {
        lock.withLock {
            switch fault {
            case let .fail(_, nth, _): faults.append((fault, nth))
            case let .noSpace(afterBytes): faults.append((fault, bytesWritten + afterBytes))
            }
        }
    }

    /// Removes every injected fault (the disk was replaced, space was freed).
    package func clearFaults() {
        lock.withLock { faults = [] }
    }

    /// Loses everything that was not made durable, keeps a seeded subset of unsynced writes,
    /// releases every lock and restores the power.
    package func crash() {
        lock.withLock {
            restore(root)
            locked = []
            powerCutAt = nil
            faults = []
        }
    }

    private func restore(_ directory: Directory) {
        directory.entries = directory.durable
        for node in directory.entries.values {
            switch node {
            case let .directory(child): restore(child)
            case let .file(inode): settle(inode)
            }
        }
    }

    /// What survives of a file: its durable bytes, then each unsynced change with even odds, in
    /// order, the last applied write perhaps torn.
    private func settle(_ inode: Inode) {
        guard !inode.pending.isEmpty else {
            inode.data = inode.durable
            return
        }
        var data = inode.durable
        for (index, change) in inode.pending.enumerated() where random.next() % 2 == 0 {
            switch change {
            case let .truncate(size):
                data = Array(data.prefix(size)) + [UInt8](repeating: 0, count: max(0, size - data.count))
            case let .write(offset, bytes):
                let isLast = index == inode.pending.count - 1
                let kept = isLast && random.next() % 2 == 0 ? Int(random.next() % UInt64(bytes.count + 1)) : bytes.count
                Self.apply(bytes.prefix(kept), at: offset, to: &data)
            }
        }
        inode.data = data
        inode.durable = data
        inode.pending = []
    }

    private static func apply(_ bytes: ArraySlice<UInt8>, at offset: Int, to data: inout [UInt8]) {
        if data.count < offset + bytes.count { data += [UInt8](repeating: 0, count: offset + bytes.count - data.count) }
        data.replaceSubrange(offset..<offset + bytes.count, with: bytes)
    }

    // MARK: Bookkeeping

    private func failure(_ path: String, _ operation: String, _ code: Int32) -> CairnError {
        .io(path: path, operation: operation, reason: String(cString: strerror(code)), errno: code)
    }

    /// Counts a change and throws when the power is cut or a fault targets it. Called with the lock held.
    private func change(_ operation: Operation, _ path: String, bytes: Int = 0) throws {
        if let cut = powerCutAt, changeCount >= cut { throw failure(path, operation.rawValue, EIO) }
        changeCount += 1
        try checkFaults(operation, path, bytes: bytes)
        bytesWritten += bytes
    }

    /// Throws when an injected fault targets this operation. Called with the lock held.
    private func checkFaults(_ operation: Operation, _ path: String, bytes: Int = 0) throws {
        for index in faults.indices {
            switch faults[index].fault {
            case let .fail(kind, _, code) where kind == operation:
                faults[index].remaining -= 1
                if faults[index].remaining == 0 {
                    faults.remove(at: index)
                    throw failure(path, operation.rawValue, code)
                }
            case .noSpace where operation == .write && bytes > 0:
                if bytesWritten + bytes > faults[index].remaining { throw failure(path, "write", ENOSPC) }
            default: continue
            }
            break
        }
    }

    private func components(_ path: String) -> [String] {
        FilePaths.absolute(path).split(separator: "/").map(String.init)
    }

    private func lookup(_ path: String) -> Node? {
        var node = Node.directory(root)
        for name in components(path) {
            guard case let .directory(directory) = node, let next = directory.entries[name] else { return nil }
            node = next
        }
        return node
    }

    /// The directory that holds `path`, and the name in it.
    private func parent(of path: String) throws -> (Directory, String) {
        let parts = components(path)
        guard let name = parts.last else { throw failure(path, "lookup", EINVAL) }
        guard case let .directory(directory)? = lookup("/" + parts.dropLast().joined(separator: "/")) else {
            throw failure(path, "lookup", ENOENT)
        }
        return (directory, name)
    }

    private func inode(_ path: String) throws -> Inode {
        switch lookup(path) {
        case let .file(inode)?: return inode
        case .directory?: throw failure(path, "open", EISDIR)
        case nil: throw failure(path, "open", ENOENT)
        }
    }

    // MARK: FileSystem

    package func openForWriting(_ path: String, _ mode: WriteMode) throws -> any WritableFile {
        try lock.withLock {
            let (directory, name) = try parent(of: path)
            switch (directory.entries[name], mode) {
            case (.directory?, _): throw failure(path, "open", EISDIR)
            case (nil, .existing): throw failure(path, "open", ENOENT)
            case (.file?, .createNew): throw failure(path, "open", EEXIST)
            case let (.file(inode)?, .existing): return SimulatedFile(path: path, inode: inode, fs: self)
            case let (.file(inode)?, .createOrTruncate):
                try change(.write, path)
                inode.data = []
                inode.pending.append(.truncate(size: 0))
                return SimulatedFile(path: path, inode: inode, fs: self)
            case (nil, _):
                try change(.create, path)
                let inode = Inode()
                directory.entries[name] = .file(inode)
                return SimulatedFile(path: path, inode: inode, fs: self)
            }
        }
    }

    fileprivate func write(_ bytes: UnsafeRawBufferPointer, at offset: Int, to inode: Inode, path: String) throws {
        try lock.withLock {
            try change(.write, path, bytes: bytes.count)
            let copy = [UInt8](bytes)
            Self.apply(copy[...], at: offset, to: &inode.data)
            inode.pending.append(.write(offset: offset, bytes: copy))
            inode.modified = Clock.milliseconds()
        }
    }

    fileprivate func truncate(_ inode: Inode, to size: Int, path: String) throws {
        try lock.withLock {
            try change(.write, path)
            inode.data = Array(inode.data.prefix(size)) + [UInt8](repeating: 0, count: max(0, size - inode.data.count))
            inode.pending.append(.truncate(size: size))
            inode.modified = Clock.milliseconds()
        }
    }

    fileprivate func sync(_ inode: Inode, path: String) throws {
        try lock.withLock {
            try change(.sync, path)
            inode.durable = inode.data
            inode.pending = []
            inode.everSynced = true
        }
    }

    package func readFile(_ path: String) throws -> [UInt8] {
        try lock.withLock { try inode(path).data }
    }

    package func readFile(_ path: String, range: Range<Int>) throws -> [UInt8] {
        try lock.withLock {
            let data = try inode(path).data
            return Array(data[min(range.lowerBound, data.count)..<min(range.upperBound, data.count)])
        }
    }

    package func map(_ path: String) throws -> MappedFile {
        MappedFile(path: path, copying: try readFile(path))
    }

    package func fileSize(_ path: String) throws -> Int {
        try lock.withLock { try inode(path).data.count }
    }

    package func modificationTime(_ path: String) throws -> Int64 {
        try lock.withLock { try inode(path).modified }
    }

    package func exists(_ path: String) -> Bool {
        lock.withLock { lookup(path) != nil }
    }

    package func isDirectory(_ path: String) -> Bool {
        lock.withLock { if case .directory? = lookup(path) { true } else { false } }
    }

    package func listDirectory(_ path: String) throws -> [String] {
        try lock.withLock {
            try checkFaults(.list, path)
            switch lookup(path) {
            case let .directory(directory)?: return directory.entries.keys.sorted()
            case .file?: throw failure(path, "opendir", ENOTDIR)
            case nil: return []
            }
        }
    }

    package func createDirectory(_ path: String) throws {
        try lock.withLock {
            var directory = root
            var walked = ""
            for name in components(path) {
                walked += "/" + name
                switch directory.entries[name] {
                case let .directory(child)?: directory = child
                case .file?: throw failure(walked, "mkdir", ENOTDIR)
                case nil:
                    try change(.create, walked)
                    let child = Directory()
                    directory.entries[name] = .directory(child)
                    directory = child
                }
            }
        }
    }

    package func syncDirectory(_ path: String) throws {
        try lock.withLock {
            try change(.sync, path)
            guard case let .directory(directory)? = lookup(path) else { throw failure(path, "open", ENOENT) }
            directory.durable = directory.entries
        }
    }

    package func rename(_ source: String, to destination: String) throws {
        try lock.withLock {
            try change(.rename, source)
            let (from, name) = try parent(of: source)
            let (to, newName) = try parent(of: destination)
            guard let node = from.entries[name] else { throw failure(source, "rename to \(destination)", ENOENT) }
            if case let .directory(existing)? = to.entries[newName], !existing.entries.isEmpty {
                throw failure(source, "rename to \(destination)", ENOTEMPTY)
            }
            from.entries[name] = nil
            to.entries[newName] = node
        }
    }

    package func linkOrCopy(_ source: String, to destination: String) throws {
        try lock.withLock {
            let inode = try inode(source)
            let (directory, name) = try parent(of: destination)
            if directory.entries[name] != nil { return }
            try change(.link, destination)
            directory.entries[name] = .file(inode)
        }
    }

    package func createLink(_ source: String, to destination: String) throws {
        try lock.withLock {
            let inode = try inode(source)
            let (directory, name) = try parent(of: destination)
            if directory.entries[name] != nil { throw failure(source, "link to \(destination)", EEXIST) }
            try change(.link, destination)
            directory.entries[name] = .file(inode)
        }
    }

    package func remove(_ path: String) throws {
        try lock.withLock {
            guard let (directory, name) = try? parent(of: path), let node = directory.entries[name] else { return }
            if case .directory = node { throw failure(path, "unlink", EISDIR) }
            try change(.remove, path)
            directory.entries[name] = nil
        }
    }

    package func removeEmptyDirectory(_ path: String) {
        lock.withLock {
            guard let (parentDirectory, name) = try? parent(of: path), case let .directory(directory)? = parentDirectory.entries[name],
                  directory.entries.isEmpty, (try? change(.remove, path)) != nil else { return }
            parentDirectory.entries[name] = nil
        }
    }

    package func linkCount(_ path: String) throws -> Int {
        try lock.withLock {
            let target = try inode(path)
            func count(_ directory: Directory) -> Int {
                directory.entries.values.reduce(0) { total, node in
                    switch node {
                    case let .file(inode): total + (inode === target ? 1 : 0)
                    case let .directory(child): total + count(child)
                    }
                }
            }
            return count(root)
        }
    }

    package func lockDirectory(_ directory: String) throws -> any DirectoryLock {
        let key = FilePaths.absolute(directory)
        try lock.withLock {
            guard !locked.contains(key) else { throw CairnError.databaseLocked(path: directory) }
            locked.insert(key)
        }
        return SimulatedLock(fs: self, key: key)
    }

    fileprivate func unlock(_ key: String) {
        _ = lock.withLock { locked.remove(key) }
    }

    package func isLocked(_ directory: String) -> Bool {
        lock.withLock { locked.contains(FilePaths.absolute(directory)) }
    }
}

/// A file of the simulated file system open for writing.
private final class SimulatedFile: WritableFile {
    let path: String
    let inode: CrashSimulatingFileSystem.Inode
    let fs: CrashSimulatingFileSystem

    init(path: String, inode: CrashSimulatingFileSystem.Inode, fs: CrashSimulatingFileSystem) {
        self.path = path
        self.inode = inode
        self.fs = fs
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws { try fs.write(bytes, at: offset, to: inode, path: path) }
    func truncate(to size: Int) throws { try fs.truncate(inode, to: size, path: path) }
    func dataSync() throws { try fs.sync(inode, path: path) }
    func fullSync() throws { try fs.sync(inode, path: path) }
    func close() {}
}

private final class SimulatedLock: DirectoryLock, @unchecked Sendable {
    let fs: CrashSimulatingFileSystem
    let key: String
    private let isReleased = Atomic(false)

    init(fs: CrashSimulatingFileSystem, key: String) {
        self.fs = fs
        self.key = key
    }

    /// Once only, like the real lock: a later holder of the same directory keeps its lock.
    func release() {
        guard isReleased.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        fs.unlock(key)
    }
}
