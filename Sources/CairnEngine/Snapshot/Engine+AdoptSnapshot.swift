import Foundation

extension Engine {
    /// Returns the database in `directory` (which must not be open elsewhere) to the state of
    /// snapshot `id` of another database, at `source`: the snapshot is first taken in as one of
    /// this database's own (`adoptSnapshot`), then rolled back to as usual (a safety snapshot of
    /// the state before, one atomic switch), then the adopted copy is deleted again. The
    /// database keeps its id. How `restore --over` brings in a backup restored and proven next
    /// to the data directory.
    package static func rollback(directory: String, toSnapshot id: String, of source: String, label: String,
                                 options: EngineOptions = EngineOptions()) async throws -> RollbackReport {
        let adopted = try adoptSnapshot(id, of: source, into: directory, label: label, options: options)
        defer { try? SnapshotStore(fs: options.fileSystem, directory: directory).delete(adopted.id) }
        return try await rollback(directory: directory, to: adopted.id, options: options)
    }

    /// Adds snapshot `id` of the database at `source` to the snapshots of the database in
    /// `directory`, as one of its own (the manifest and description carry that database's id),
    /// so `rollback` can switch to it. Files are hard-linked where the file system allows. The
    /// new snapshot appears whole or not at all.
    private static func adoptSnapshot(_ id: String, of source: String, into directory: String, label: String,
                                      options: EngineOptions = EngineOptions()) throws -> SnapshotInfo {
        let fs = options.fileSystem
        let from = SnapshotStore(fs: fs, directory: source)
        try from.requireRestorable(id)
        let databaseID = try ManifestStore(fs: fs, directory: directory).loadCurrent().databaseID
        var manifest = try from.manifest(id)
        manifest.databaseID = databaseID
        let original = try from.info(id)
        let files = manifest.segments.map { SnapshotStore.SourceFile(source: from.path(id) + "/" + $0.relativePath, relativePath: $0.relativePath) }
            + (try from.walFiles(id, manifest: manifest)).map { SnapshotStore.SourceFile(source: from.path(id) + "/wal/" + $0, relativePath: "wal/" + $0) }
        return try SnapshotStore(fs: fs, directory: directory).write(manifest: manifest, files: files, started: .now) { newID, createdAt in
            SnapshotInfo(id: newID, label: label, trigger: .manual, createdAt: createdAt, lsn: original.lsn, databaseID: databaseID,
                         fileCount: 0, bytes: 0, creationMilliseconds: 0, writerPauseMilliseconds: 0)
        }
    }
}
