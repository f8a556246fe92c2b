import Foundation

/// A consistent state of the database that a backup reads while writers go on: a snapshot
/// (sealed WAL, manifest, hard links of immutable files) taken for the backup and deleted when
/// it ends.
package struct RecoveryPoint: Sendable {
    /// The snapshot that holds the files.
    package let snapshot: SnapshotInfo
    /// Its directory: `manifest.json`, `segments/…` and `wal/…` as in a data directory.
    package let directory: String
    /// The manifest of the point (checkpoint, catalog at the checkpoint, segments).
    package let manifest: Manifest
    /// The catalog at the point's LSN (the WAL after the checkpoint included).
    package let catalog: Catalog
    /// The WAL files after the checkpoint, in replay order (names under `wal/`).
    package let walFiles: [String]
    /// The digest (live objects, content fingerprint, golden queries) of every loaded partition
    /// at the point (inactive tenants are not digested).
    package let digests: [PartitionKey: PartitionDigest]
}

extension Engine {
    /// Runs `body` with a recovery point of the database as of now; writers continue meanwhile.
    /// The partitions `digesting` accepts (all by default) are digested at the point.
    /// The point's snapshot is deleted when `body` returns or throws, and at the next open if
    /// the process dies first.
    package func withRecoveryPoint<Result: Sendable>(digesting: @escaping @Sendable (PartitionKey) -> Bool = { _ in true },
                                                          _ body: (RecoveryPoint) async throws -> Result) async throws -> Result {
        let (snapshot, catalog, captured) = try await runBlocking { [self] in
            try takeSnapshot(label: "recovery point of a backup", trigger: .backup, digesting: digesting)
        }
        defer { try? snapshots.delete(snapshot.id) }
        let digests = try await runBlocking { try captured.mapValues { try $0.finish() } }
        let store = snapshots
        let manifest = try store.manifest(snapshot.id)
        let point = RecoveryPoint(snapshot: snapshot, directory: store.path(snapshot.id), manifest: manifest, catalog: catalog,
                                  walFiles: try store.walFiles(snapshot.id, manifest: manifest), digests: digests)
        return try await body(point)
    }
}
