import CairnEngine
import Foundation

/// What `restore --over` did: the restore and its proof, and the snapshot that undoes it.
public struct RestoreOverReport: Codable, Sendable, Hashable {
    public var restore: RestoreReport
    /// The data directory replaced.
    public var directory: String
    /// The snapshot of the state before (roll back to it to undo), when safety snapshots are on.
    public var safetySnapshot: String?
    /// Set when the database did not open before: its files were kept as they were.
    public var warning: String?
}

extension Repository {
    /// Replaces the database in `directory` (which must not be open elsewhere) with backup `id`.
    /// The backup is restored and proven next to it first (`<parent>/.<name>.restoring`, removed
    /// after), then taken into the data directory as a snapshot of its own and rolled back to:
    /// the rollback keeps a safety snapshot of the state before, and switches in one atomic
    /// manifest change, so a crash leaves the old database or the restored one. The database
    /// keeps its own id.
    public func restore(_ id: String, over directory: String, options: EngineOptions = EngineOptions(),
                        progress: ProgressHandler? = nil) async throws -> RestoreOverReport {
        let directory = FilePaths.normalized(directory)
        let fs = options.fileSystem
        guard fs.exists(directory + "/CURRENT") else {
            throw RepositoryError.invalidArgument("\(directory) holds no Cairn database to restore over; restore into a new directory with --target")
        }
        let staging = FilePaths.parent(of: directory) + "/." + FilePaths.name(of: directory) + ".restoring"
        if fs.exists(staging) { try fs.removeTree(staging) } // left by an interrupted restore --over: ours alone
        defer { try? fs.removeTree(staging) }
        let report = try await restore(id, to: staging, fileSystem: fs, progress: progress)
        var stagingOptions = options
        stagingOptions.createIfMissing = false
        let restored = try await Engine.open(at: staging, options: stagingOptions)
        let snapshot: SnapshotInfo
        do { snapshot = try await restored.createSnapshot(label: "backup \(id)") } catch {
            await restored.close()
            throw error
        }
        await restored.close()
        let rollback = try await Engine.rollback(directory: directory, toSnapshot: snapshot.id, of: staging,
                                                 label: "restored from backup \(id)", options: options)
        try Self.moveSources(from: staging, to: directory, backup: id, fs: fs)
        return RestoreOverReport(restore: report, directory: directory, safetySnapshot: rollback.safetySnapshot?.id, warning: rollback.warning)
    }

    /// Moves restored source files (`sources/`) from the staging directory into the data
    /// directory; sources already there are kept, renamed `sources.before-<backup>[-n]`.
    private static func moveSources(from staging: String, to directory: String, backup id: String, fs: any FileSystem) throws {
        guard fs.exists(staging + "/sources") else { return }
        let destination = directory + "/sources"
        if fs.exists(destination) {
            var kept = destination + ".before-" + id, suffix = 2
            while fs.exists(kept) {
                kept = destination + ".before-\(id)-\(suffix)"
                suffix += 1
            }
            try fs.rename(destination, to: kept)
        }
        try fs.rename(staging + "/sources", to: destination)
        try fs.syncDirectory(directory)
    }
}
