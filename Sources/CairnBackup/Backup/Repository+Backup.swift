import CairnEngine
import Foundation

extension Repository {
    /// Backs up the database `engine` holds open, while writers continue: a recovery point is
    /// taken, every file of it not already in the repository is stored, and the backup's
    /// manifest is written last. A segment file the newest backup of the same database already
    /// holds (same id, size and CRC32C) is reused without being read.
    package func backup(_ engine: Engine, tags: [String] = [], engineVersion: String, fs: any FileSystem = LocalFileSystem(),
                        progress handler: ProgressHandler? = nil) async throws -> BackupInfo {
        try await withLock(exclusive: false, operation: "backup") {
            let started = ContinuousClock.now
            let known = try await filesOfNewestBackup(of: engine.databaseID)
            let writer = PackWriter(repository: self, index: try await BlobIndex.load(self))
            let manifest: BackupManifest
            do {
                manifest = try await engine.withRecoveryPoint { point in
                    engine.reachedStep("backup-point-taken")
                    let sizes = try point.manifest.segments.map(\.bytes) + point.walFiles.map { try fs.fileSize(point.directory + "/wal/" + $0) }
                    let progress = ProgressCounter(totalFiles: sizes.count, totalBytes: sizes.reduce(0, +), handler: handler)
                    var files: [BackedUpFile] = []
                    var statistics = BackupStatistics()
                    for record in point.manifest.segments {
                        let identity = BackedUpFile.Identity(path: record.relativePath, size: record.bytes, crc32c: record.crc32c)
                        if let stored = known[identity], stored.blobs.allSatisfy(writer.index.contains) {
                            files.append(stored)
                            statistics.filesReused += 1
                            progress.advance(bytes: stored.size, fileDone: true)
                        } else {
                            files.append(try await FileParts.store(point.directory + "/" + record.relativePath, as: record.relativePath, fs: fs,
                                                                   writer: writer, partBytes: config.partBytes, progress: progress))
                        }
                    }
                    for name in point.walFiles {
                        files.append(try await FileParts.store(point.directory + "/wal/" + name, as: "wal/" + name, fs: fs,
                                                               writer: writer, partBytes: config.partBytes, progress: progress))
                    }
                    try await writer.finish()
                    engine.reachedStep("backup-data-written")
                    statistics.files = files.count
                    statistics.bytes = files.reduce(0) { $0 + $1.size }
                    let summary = point.catalog.partitionsByLoadedState.keys.sorted { $0.description < $1.description }.map { key in
                        PartitionSummary(collection: key.collection, tenant: key.tenant, objects: point.digests[key]?.objects,
                                         dimensions: point.catalog.collections[key.collection]?.dimensions ?? 0,
                                         fingerprint: point.digests[key]?.fingerprint, goldenQueries: point.digests[key]?.goldenQueries)
                    }
                    return BackupManifest(id: SnapshotStore.newID(at: Clock.milliseconds()), createdAt: Clock.milliseconds(), tags: tags,
                                          engineVersion: engineVersion, manifest: point.manifest, catalog: point.catalog, lsn: point.snapshot.lsn,
                                          walFiles: point.walFiles,
                                          files: files, summary: summary, statistics: statistics)
                }
            } catch {
                await writer.drain()
                throw error
            }
            var finished = manifest
            finished.statistics.bytesAdded = writer.bytesWritten
            finished.statistics.seconds = (ContinuousClock.now - started).milliseconds / 1000
            try await writeBackup(finished)
            engine.reachedStep("backup-manifest-written")
            return BackupInfo(finished)
        }
    }

    /// Every backup, oldest first.
    public func backups() async throws -> [BackupInfo] {
        try await manifests().map(BackupInfo.init)
    }

    /// Every backup's manifest, oldest first. One that does not read is an error, never skipped.
    func manifests() async throws -> [BackupManifest] {
        var found: [BackupManifest] = []
        for object in try await backend.list(BackupManifest.folder) {
            found.append(try await loadBackup(String(object.name.dropFirst(BackupManifest.folder.count))))
        }
        return found.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// The id a person gave: a backup id as is, or `latest` for the newest backup.
    public func backupID(_ idOrLatest: String) async throws -> String {
        guard idOrLatest == "latest" else { return idOrLatest }
        guard let newest = try await backups().last else { throw RepositoryError.invalidArgument("the repository holds no backup yet") }
        return newest.id
    }

    /// Everything backup `id` holds, layer by layer and file by file.
    public func backupDetails(_ id: String) async throws -> BackupDetails {
        let manifest = try await loadBackup(id)
        return BackupDetails(info: BackupInfo(manifest), catalog: manifest.catalog ?? manifest.manifest.catalog,
                             files: manifest.files.map { BackupDetails.File(path: $0.path, size: $0.size, blobs: $0.blobs.count) })
    }

    /// The manifest of backup `id`.
    func loadBackup(_ id: String) async throws -> BackupManifest {
        let name = BackupManifest.objectName(id)
        let plaintext = try SealedObject.open(try await backend.get(name), kind: "backup", key: key, name: name)
        do { return try JSONDecoder().decode(BackupManifest.self, from: Data(plaintext)) } catch {
            throw RepositoryError.damaged(object: name, reason: "the backup's manifest does not decode: \(error)")
        }
    }

    /// The files of the newest backup of database `databaseID`, by identity.
    private func filesOfNewestBackup(of databaseID: String) async throws -> [BackedUpFile.Identity: BackedUpFile] {
        guard let newest = try await manifests().last(where: { $0.manifest.databaseID == databaseID }) else { return [:] }
        var files: [BackedUpFile.Identity: BackedUpFile] = [:]
        for file in newest.files { files[file.identity] = file }
        return files
    }
}

extension BackedUpFile {
    /// What makes two immutable files the same file: path (segment files are named by unique
    /// ids), size and CRC32C.
    struct Identity: Hashable {
        var path: String
        var size: Int
        var crc32c: UInt32
    }

    var identity: Identity { Identity(path: path, size: size, crc32c: crc32c) }
}
