import Foundation

/// Coordinated copies by tools outside Cairn (LVM, ZFS, btrfs, cloud volume snapshots, `cp -r`,
/// `rsync`), and verification of any copy. Such a copy lives wherever the tool puts it; when that
/// is the same disk or volume, it is a snapshot, not a backup.
extension Database {
    /// Opens a storage-snapshot window: checkpoint, WAL sealed, compaction and file deletion
    /// held, a label written into the data directory. Copy the directory, then call `end()` on
    /// the token. The window closes by itself after `timeout` seconds (default 1 hour).
    public func beginStorageSnapshot(label: String, timeout: Double = 3600) async throws -> StorageSnapshotToken {
        StorageSnapshotToken(database: self, label: try await engine.beginStorageSnapshot(label: label, timeout: timeout))
    }

    /// Ends the open storage-snapshot window (also one a previous process began).
    @discardableResult
    public func endStorageSnapshot() async throws -> StorageSnapshotLabel { try await engine.endStorageSnapshot() }

    /// Checks a data directory that is not open for writing (a copy, typically): manifest,
    /// every segment's size and checksum, WAL continuity, the storage-snapshot label.
    public static func verify(at directory: String, options: EngineOptions = EngineOptions()) async -> VerifyReport {
        await Engine.verify(at: directory, options: options)
    }
}

/// An open storage-snapshot window; `end()` closes it.
public struct StorageSnapshotToken: Sendable {
    let database: Database
    /// The label written into the data directory.
    public let label: StorageSnapshotLabel

    /// Records the end LSN and releases the hold on compaction and file deletion.
    @discardableResult
    public func end() async throws -> StorageSnapshotLabel { try await database.endStorageSnapshot() }
}
