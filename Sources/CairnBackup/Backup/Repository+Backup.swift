import CairnEngine
import Foundation

extension Repository {
    /// Backs up the database `engine` holds open, while writers continue: a recovery point is
    /// taken, every file of it not already in the repository is stored, and the backup's
    /// manifest is written last. A segment file an earlier backup of the same database already
    /// holds (same id, size and CRC32C) is reused without being read. A partial `scope` (some
    /// collections, or some tenants of one) backs up the recovery point cut to it
    /// (`ScopedState`): a self-contained state holding only what the scope covers.
    package func backup(_ engine: Engine, scope: PartitionScope = PartitionScope(), tags: [String] = [], engineVersion: String,
                        fs: any FileSystem = LocalFileSystem(), progress handler: ProgressHandler? = nil) async throws -> BackupInfo {
        guard scope.collectionRenames.isEmpty, scope.tenantRenames.isEmpty else {
            throw RepositoryError.invalidArgument("a backup keeps the database's names: rename when you restore (--rename, --rename-tenant)")
        }
        let covered = scope.isPartial ? try scope.resolve(in: engine.catalog) : nil
        return try await withLock(exclusive: false, operation: "backup") {
            let started = ContinuousClock.now
            let known = try await filesOfEarlierBackups(of: engine.databaseID)
            let chunker = ContentDefinedChunker(seed: key.chunkerSeed)
            let writer = PackWriter(repository: self, index: try await BlobIndex.load(self))
            let manifest: BackupManifest
            do {
                manifest = try await engine.withRecoveryPoint(digesting: { covered?.covers($0) ?? true }) { point in
                    engine.reachedStep("backup-point-taken")
                    let state = try BackedUpState(point, scope: scope, fs: fs)
                    let sizes = try state.segments.map(\.bytes) + state.walFiles.map { try fs.fileSize($0.path) } + state.sources.entries.map(\.size)
                    let progress = ProgressCounter(totalFiles: sizes.count, totalBytes: sizes.reduce(0, +), handler: handler)
                    var files: [BackedUpFile] = []
                    var statistics = BackupStatistics()
                    for record in state.segments {
                        let identity = BackedUpFile.Identity(path: record.relativePath, size: record.bytes, crc32c: record.crc32c)
                        if let stored = known.files[identity], stored.blobs.allSatisfy(writer.index.contains) {
                            files.append(stored)
                            statistics.filesReused += 1
                            progress.advance(bytes: stored.size, fileDone: true)
                        } else {
                            files.append(try await FileParts.store(point.directory + "/" + record.relativePath, as: record.relativePath, fs: fs,
                                                                   writer: writer, partBytes: config.partBytes, progress: progress))
                        }
                    }
                    for file in state.walFiles {
                        files.append(try await FileParts.store(file.path, as: "wal/" + file.name, fs: fs,
                                                               writer: writer, partBytes: config.partBytes, progress: progress))
                    }
                    var sources: [BackedUpSource] = []
                    for entry in state.sources.entries {
                        if var stored = known.sources[SourceKey(entry)], stored.file.size == entry.size,
                           stored.modifiedNanoseconds == entry.modifiedNanoseconds, stored.file.blobs.allSatisfy(writer.index.contains) {
                            stored.file.path = entry.relativePath
                            stored.source = entry.source
                            sources.append(stored)
                            statistics.sourceFilesReused += 1
                            progress.advance(bytes: entry.size, fileDone: true)
                        } else {
                            sources.append(try await SourceFiles.store(entry, chunker: chunker, writer: writer, progress: progress))
                        }
                    }
                    statistics.sourceFiles = sources.count
                    statistics.sourceBytes = sources.reduce(0) { $0 + $1.file.size }
                    try await writer.finish()
                    engine.reachedStep("backup-data-written")
                    statistics.files = files.count
                    statistics.bytes = files.reduce(0) { $0 + $1.size }
                    let summary = state.catalog.partitionsByLoadedState.keys.sorted { $0.description < $1.description }.map { key in
                        PartitionSummary(collection: key.collection, tenant: key.tenant, objects: point.digests[key]?.objects,
                                         dimensions: state.catalog.collections[key.collection]?.dimensions ?? 0,
                                         fingerprint: point.digests[key]?.fingerprint, goldenQueries: point.digests[key]?.goldenQueries)
                    }
                    return BackupManifest(id: SnapshotStore.newID(at: Clock.milliseconds()), createdAt: Clock.milliseconds(), tags: tags,
                                          engineVersion: engineVersion, manifest: state.manifest, catalog: state.catalog, lsn: point.snapshot.lsn,
                                          walFiles: state.walFiles.map(\.name), scope: scope.isPartial ? scope : nil,
                                          files: files, sources: sources, sourceProblems: state.sources.problems,
                                          summary: summary, statistics: statistics)
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

    /// The files and source files of every backup of database `databaseID`: files by
    /// identity, source files by collection and path (the newest record of each).
    private func filesOfEarlierBackups(of databaseID: String) async throws -> (files: [BackedUpFile.Identity: BackedUpFile],
                                                                               sources: [SourceKey: BackedUpSource]) {
        var files: [BackedUpFile.Identity: BackedUpFile] = [:]
        var sources: [SourceKey: BackedUpSource] = [:]
        for manifest in try await manifests() where manifest.manifest.databaseID == databaseID {
            for file in manifest.files { files[file.identity] = file }
            for source in manifest.sources ?? [] { sources[SourceKey(collection: source.collection, path: source.originalPath)] = source }
        }
        return (files, sources)
    }
}

/// A source file as an incremental backup recognises it: its collection and absolute path
/// (then the same size and modification time mean the same content).
private struct SourceKey: Hashable {
    var collection: String
    var path: String

    init(collection: String, path: String) {
        self.collection = collection
        self.path = path
    }

    init(_ entry: SourceInventory.Entry) { self.init(collection: entry.collection, path: entry.absolutePath) }
}

/// What a backup stores of a recovery point: all of it, or the state cut to a partial scope
/// (whose log is written next to the point's files, and deleted with them).
private struct BackedUpState {
    var manifest: Manifest
    var catalog: Catalog
    /// Segments, at the same relative path in the point's directory and in the backup.
    var segments: [Manifest.SegmentRecord]
    /// WAL files: where each is, and its name in the backup.
    var walFiles: [(path: String, name: String)]
    /// The files under the covered collections' declared sources.
    var sources: SourceInventory

    init(_ point: RecoveryPoint, scope: PartitionScope, fs: any FileSystem) throws {
        guard scope.isPartial else {
            (manifest, catalog, segments) = (point.manifest, point.catalog, point.manifest.segments)
            walFiles = point.walFiles.map { (point.directory + "/wal/" + $0, $0) }
            sources = SourceInventory(catalog: catalog)
            return
        }
        let output = point.directory + "/scoped-wal"
        try fs.createDirectory(output)
        let cut = try ScopedState.cut(manifest: point.manifest, walDirectory: point.directory + "/wal", scope: scope, into: output, fs: fs)
        (manifest, catalog, segments) = (cut.manifest, cut.manifest.catalog, cut.segments.map(\.source))
        walFiles = cut.walFiles.map { (output + "/" + $0, $0) }
        sources = SourceInventory(catalog: catalog)
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
