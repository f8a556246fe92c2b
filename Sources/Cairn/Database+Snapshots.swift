import Foundation

/// Local snapshots: the database as of one LSN, kept as hard links on the same disk. They make
/// rollback, clones and fast restarts cheap, but share the database's fate if the disk is lost:
/// a snapshot is not a backup.
extension Database {
    /// Takes a snapshot now. Writers pause only while the WAL is sealed (a few milliseconds).
    public func createSnapshot(label: String? = nil) async throws -> SnapshotInfo {
        try await engine.createSnapshot(label: label)
    }

    /// Every snapshot, oldest first, with the bytes it shares and the bytes only it holds, what
    /// a quick look at its files finds wrong, and why it is kept.
    public func snapshots() -> [SnapshotUsage] { engine.snapshotListing() }

    /// Reads every byte of a snapshot (segments' checksums, the WAL chain up to its LSN).
    public func verifySnapshot(_ id: String) async throws -> VerifyReport { try await engine.verifySnapshot(id) }

    /// One snapshot, or `CairnError.snapshotNotFound`.
    public func snapshot(_ id: String) throws -> SnapshotUsage { try engine.snapshotUsage(id) }

    /// Deletes a snapshot; files still linked from the database or another snapshot stay.
    public func deleteSnapshot(_ id: String) throws { try engine.deleteSnapshot(id) }

    /// Returns the (closed) database in `directory` to snapshot `id`, every layer as of its LSN,
    /// after taking a safety snapshot of the current state. Open the database again afterwards.
    public static func rollback(at directory: String, to id: String, options: EngineOptions = EngineOptions()) async throws -> RollbackReport {
        try await Engine.rollback(directory: directory, to: id, options: options)
    }

    /// Makes manifest `name` current in a database whose `CURRENT` is missing or unusable,
    /// after checking that the directory opens with it (`Engine.repairCurrent`).
    public static func repairCurrent(at directory: String, manifest name: String,
                                     options: EngineOptions = EngineOptions()) async throws -> VerifyReport {
        try await Engine.repairCurrent(at: directory, manifest: name, options: options)
    }

    /// Creates an independent database at `target` from snapshot `id` of the database in
    /// `directory` (which may be open). Writes to either never show in the other.
    public static func clone(snapshot id: String, of directory: String, to target: String,
                             options: EngineOptions = EngineOptions()) async throws -> SnapshotInfo {
        try await Engine.cloneSnapshot(id, of: directory, to: target, options: options)
    }
}
