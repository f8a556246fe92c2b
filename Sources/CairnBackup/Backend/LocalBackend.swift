import CairnEngine
import Foundation

/// A repository in a local directory (another disk, a mounted network volume). Objects are
/// files; every object is written to a temporary name, fsynced, then published by a rename
/// (`put`) or a hard link (`create`, which fails if the name exists), and the directory is
/// fsynced, so a crash leaves whole objects only. Every file operation goes through the
/// engine's `FileSystem`, so the crash simulator tests this backend too.
package struct LocalBackend: RepositoryBackend {
    package let root: String
    let fs: any FileSystem

    package init(root: String, fileSystem: any FileSystem = LocalFileSystem()) {
        self.root = FilePaths.normalized(root)
        fs = fileSystem
    }

    package var location: String { root }

    /// Temporary files start with this (then the object's name and a random suffix, so that
    /// concurrent writers never share one); listings skip them.
    static let temporaryPrefix = ".tmp-"

    package func put(_ name: String, _ bytes: [UInt8]) async throws {
        try wrap(name, "put") {
            let (folder, temporary) = try prepare(name)
            try fs.writeNewFile(temporary, bytes)
            try fs.rename(temporary, to: path(name))
            try fs.syncDirectory(folder)
        }
    }

    package func create(_ name: String, _ bytes: [UInt8]) async throws -> Bool {
        try wrap(name, "create") {
            let (folder, temporary) = try prepare(name)
            try fs.writeNewFile(temporary, bytes)
            defer { try? fs.remove(temporary) }
            do {
                try fs.createLink(temporary, to: path(name))
            } catch CairnError.io(_, _, _, errno: EEXIST) {
                return false
            }
            try fs.syncDirectory(folder)
            return true
        }
    }

    package func get(_ name: String) async throws -> [UInt8] {
        guard fs.exists(path(name)) else { throw RepositoryError.missing(object: name) }
        return try wrap(name, "get") { try fs.readFile(path(name)) }
    }

    package func get(_ name: String, range: Range<Int>) async throws -> [UInt8] {
        guard fs.exists(path(name)) else { throw RepositoryError.missing(object: name) }
        let bytes = range.lowerBound >= 0 ? try wrap(name, "get") { try fs.readFile(path(name), range: range) } : []
        guard range.lowerBound >= 0, bytes.count == range.count else {
            throw RepositoryError.damaged(object: name, reason: "bytes \(range) asked of an object of \(try fs.fileSize(path(name)))")
        }
        return bytes
    }

    package func list(_ prefix: String) async throws -> [StoredObjectInfo] {
        try wrap(prefix, "list") {
            var found: [StoredObjectInfo] = []
            func walk(_ relative: String) throws {
                let directory = relative.isEmpty ? root : root + "/" + relative
                for entry in try fs.listDirectory(directory) where !entry.hasPrefix(Self.temporaryPrefix) {
                    let name = relative.isEmpty ? entry : relative + "/" + entry
                    if fs.isDirectory(root + "/" + name) {
                        if name.hasPrefix(prefix) || prefix.hasPrefix(name + "/") { try walk(name) }
                    } else if name.hasPrefix(prefix) {
                        found.append(StoredObjectInfo(name: name, size: try fs.fileSize(root + "/" + name),
                                                      modified: try fs.modificationTime(root + "/" + name)))
                    }
                }
            }
            try walk("")
            return found.sorted { $0.name < $1.name }
        }
    }

    package func delete(_ name: String) async throws {
        try wrap(name, "delete") {
            try fs.remove(path(name))
            try fs.syncDirectory(FilePaths.parent(of: path(name)))
        }
    }

    private func path(_ name: String) -> String { root + "/" + name }

    /// Creates the object's folder (durably) and names a new temporary file in it.
    private func prepare(_ name: String) throws -> (folder: String, temporary: String) {
        let folder = FilePaths.parent(of: path(name))
        if !fs.exists(folder) {
            // Every new directory's name must be durable, up to and including the root's own
            // name in its parent when the root is new too.
            let rootIsNew = !fs.exists(root)
            try fs.createDirectory(folder)
            var synced = folder
            while synced != root && synced.count > root.count {
                synced = FilePaths.parent(of: synced)
                try fs.syncDirectory(synced)
            }
            if rootIsNew { try fs.syncDirectory(FilePaths.parent(of: root)) }
        }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return (folder, folder + "/" + Self.temporaryPrefix + FilePaths.name(of: name) + "-" + suffix)
    }

    /// Runs `body`, turning a file-system failure into a `RepositoryError.backend` naming the object.
    private func wrap<T>(_ name: String, _ operation: String, _ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as RepositoryError {
            throw error
        } catch {
            throw RepositoryError.backend(object: name, operation: operation, reason: "\(error)")
        }
    }
}
