import Foundation

/// What a rollback did.
public struct RollbackReport: Sendable, Codable, Hashable {
    /// The snapshot the database returned to.
    public var snapshot: SnapshotInfo
    /// The snapshot of the state before the rollback (roll back to it to undo).
    public var safetySnapshot: SnapshotInfo?
    /// Wall time of the rollback.
    public var milliseconds: Double
    /// Something the person should know: the database did not open before the rollback, so
    /// its files were kept as they were instead of in an undoable snapshot.
    public var warning: String?
}

extension Engine {
    /// Returns the database in `directory` (which must not be open elsewhere) to snapshot `id`:
    /// every layer as of the snapshot's LSN.
    ///
    /// The snapshot is read completely first (`SnapshotStore.verify`): a damaged one, or one
    /// of another database, is refused and nothing changes. Then a safety snapshot of the
    /// current state is taken (unless the policy disables it) so the rollback can be undone;
    /// when the database does not open, its files are kept as they are instead, and the
    /// rollback goes on — it is the way out. The switch is one atomic manifest change: a crash
    /// leaves either the old or the new state. A rollback that fails deletes its safety snapshot.
    package static func rollback(directory: String, to id: String, options: EngineOptions = EngineOptions()) async throws -> RollbackReport {
        let started = ContinuousClock.now
        let fs = options.fileSystem
        let store = SnapshotStore(fs: fs, directory: directory)
        let target = try store.info(id)
        try await runBlocking { try store.requireRestorable(id) }
        let live = try ManifestStore(fs: fs, directory: directory).loadCurrent()
        guard live.databaseID == target.databaseID else {
            throw CairnError.snapshotOfAnotherDatabase(id: id, snapshotDatabase: target.databaseID, database: live.databaseID)
        }
        var options = options
        options.createIfMissing = false
        var safety: SnapshotInfo?
        var warning: String?
        let lock: DirectoryLock
        do {
            let engine = try await open(at: directory, options: options)
            do {
                safety = options.safetySnapshots.enabled
                    ? try await engine.createSnapshot(label: "before rollback to \(id)", trigger: .safety(operation: "rollback to \(id)"), sparing: [id])
                    : nil
            } catch {
                await engine.close()
                throw error
            }
            lock = await engine.shutdown()
        } catch let error as CairnError {
            guard case .corruption = error else { throw error }
            lock = try fs.lockDirectory(directory)
            do {
                safety = options.safetySnapshots.enabled ? try keepDamagedState(of: directory, manifest: live, before: id, fs: fs) : nil
            } catch {
                lock.release()
                throw error
            }
            warning = "the database did not open (\(error)); its files were kept as they were in snapshot \(safety?.id ?? "-") for inspection"
        }
        defer { lock.release() }
        options.reachedStep("rollback-safety-taken")
        let installOptions = options
        do {
            try await runBlocking { try installSnapshot(id, in: directory, options: installOptions) }
        } catch {
            if let safety { try? store.delete(safety.id) }
            throw error
        }
        options.reachedStep("rollback-published")
        options.logger.debug("rolled back", metadata: ["snapshot": "\(id)", "lsn": "\(target.lsn)"])
        return RollbackReport(snapshot: target, safetySnapshot: safety, milliseconds: (ContinuousClock.now - started).milliseconds,
                              warning: warning)
    }

    /// Keeps the files of a database that does not open in a snapshot before a rollback
    /// replaces it: segments linked, WAL files copied (the newest may not be sealed). Its LSN is
    /// the checkpoint's, the last one known to be whole; `snapshot verify` says what is damaged.
    private static func keepDamagedState(of directory: String, manifest: Manifest, before id: String, fs: any FileSystem) throws -> SnapshotInfo {
        let walDirectory = directory + "/wal"
        let walNames = try (manifest.restoredWAL ?? []) + fs.listDirectory(walDirectory).filter {
            (WALFormat.sequence(of: $0) ?? -1) >= manifest.walStartSequence
        }
        let files = manifest.segments.map(\.relativePath).filter { fs.exists(directory + "/" + $0) }
            .map { SnapshotStore.SourceFile(source: directory + "/" + $0, relativePath: $0) }
            + walNames.filter { fs.exists(walDirectory + "/" + $0) }
            .map { SnapshotStore.SourceFile(source: walDirectory + "/" + $0, relativePath: "wal/" + $0, copy: true) }
        return try SnapshotStore(fs: fs, directory: directory).write(manifest: manifest, files: files, started: .now) { snapshotID, createdAt in
            SnapshotInfo(id: snapshotID, label: "state before rollback to \(id) (it did not open)", trigger: .safety(operation: "rollback to \(id)"),
                         createdAt: createdAt, lsn: manifest.checkpointLSN, databaseID: manifest.databaseID, fileCount: 0, bytes: 0,
                         creationMilliseconds: 0, writerPauseMilliseconds: 0)
        }
    }

    /// Makes snapshot `id` the state of the (closed, locked) database in `directory`: links its
    /// segments back, brings its WAL files back under names the old manifest ignores, starts a
    /// fresh numbered WAL file after every existing one, and publishes a manifest naming all of
    /// that. Until `CURRENT` switches, the old state stays whole.
    private static func installSnapshot(_ id: String, in directory: String, options: EngineOptions) throws {
        let fs = options.fileSystem
        let store = SnapshotStore(fs: fs, directory: directory)
        let manifests = ManifestStore(fs: fs, directory: directory)
        let snapshot = try store.manifest(id)
        let live = try manifests.loadCurrent()
        let walDirectory = directory + "/wal"
        try link(segments: snapshot.segments, from: store.path(id), to: directory, fs: fs)
        options.reachedStep("rollback-segments-linked")
        var restored: [String] = []
        for (index, name) in try store.walFiles(id, manifest: snapshot).enumerated() {
            let restoredName = "\(SnapshotLayout.restoredWALPrefix)\(live.sequence + 1)-\(index)-\(name)"
            try fs.linkOrCopy(store.path(id) + "/wal/" + name, to: walDirectory + "/" + restoredName)
            restored.append(restoredName)
        }
        options.reachedStep("rollback-wal-linked")
        let newestLive = try fs.listDirectory(walDirectory).compactMap(WALFormat.sequence(of:)).max() ?? live.walStartSequence
        let freshSequence = max(newestLive, live.walStartSequence) + 1
        (try WALWriter(fs: fs, directory: walDirectory, sequence: freshSequence, validLength: nil)).close()
        try fs.syncDirectory(walDirectory)
        options.reachedStep("rollback-wal-started")
        let manifest = Manifest(databaseID: live.databaseID, sequence: live.sequence + 1, checkpointLSN: snapshot.checkpointLSN,
                                walStartSequence: freshSequence, restoredWAL: restored, catalog: snapshot.catalog,
                                segments: snapshot.segments, writtenAt: Clock.milliseconds())
        try manifests.publish(manifest)
    }

    /// Creates an independent database at `target` from snapshot `id` of the database in
    /// `directory`. Files are hard-linked (they are immutable; each database only ever adds new
    /// files), so a clone costs no copy on the same file system; it gets its own database id and
    /// its own new WAL file, so writes to one never show in the other.
    package static func cloneSnapshot(_ id: String, of directory: String, to target: String,
                                     options: EngineOptions = EngineOptions()) async throws -> SnapshotInfo {
        let fs = options.fileSystem
        let store = SnapshotStore(fs: fs, directory: directory)
        let info = try store.info(id)
        if FilePaths.isInside(FilePaths.normalized(target), directory) {
            throw CairnError.invalidArgument("\(target) is inside the data directory \(directory), whose files Cairn manages; clone to a directory outside it")
        }
        try store.requireRestorable(id)
        let snapshot = try store.manifest(id)
        try await createDatabase(at: target, from: snapshot, walFiles: try store.walFiles(id, manifest: snapshot), fs: fs) { relativePath, destination in
            try fs.linkOrCopy(store.path(id) + "/" + relativePath, to: destination)
        }
        return info
    }

    /// Creates a new database at `target` (absent or empty) holding the state `manifest`
    /// describes: `place` puts each of its files (the WAL files in `walFiles`, then segments,
    /// by path relative to a data directory) at the destination path it is given. With a
    /// `scope`, the state is cut to it first (`ScopedState`): only covered segments are placed,
    /// under their new names, and the log is rewritten; the resolved scope is returned. The
    /// database gets a new id and a new WAL file of its own. It is built under a temporary name
    /// and renamed into place when whole, so `target` never holds half a database; `finishing`
    /// may add other files to it (by the path it is given) before that.
    @discardableResult
    package static func createDatabase(at requestedTarget: String, from manifest: Manifest, walFiles: [String], scope: PartitionScope? = nil,
                                       fs: any FileSystem,
                                       place: (_ relativePath: String, _ destination: String) async throws -> Void,
                                       finishing: ((_ directory: String, _ scope: ResolvedScope?) async throws -> Void)? = nil) async throws -> ResolvedScope? {
        let target = FilePaths.normalized(requestedTarget)
        if fs.exists(target) {
            guard try fs.listDirectory(target).isEmpty else { throw CairnError.targetNotEmpty(path: target) }
            try fs.removeTree(target)
        }
        let partial = target + SnapshotLayout.partialPrefix + "create"
        try fs.removeTree(partial)
        var resolved: ResolvedScope?
        do {
            for folder in ["wal", "manifests", "segments"] { try fs.createDirectory(partial + "/" + folder) }
            var created = manifest
            var createdWAL = walFiles
            var segments = manifest.segments.map { (source: $0, cut: $0) }
            if let scope {
                let source = partial + "/wal-source"
                try fs.createDirectory(source)
                for name in walFiles { try await place("wal/" + name, source + "/" + name) }
                let cut = try ScopedState.cut(manifest: manifest, walDirectory: source, scope: scope, into: partial + "/wal", fs: fs)
                try fs.removeTree(source)
                (created, createdWAL, segments, resolved) = (cut.manifest, cut.walFiles, cut.segments, cut.scope)
            } else {
                for name in walFiles { try await place("wal/" + name, partial + "/wal/" + name) }
            }
            var folders = Set<String>()
            for (source, cut) in segments {
                let path = partial + "/" + cut.relativePath
                let folder = FilePaths.parent(of: path)
                if folders.insert(folder).inserted { try fs.createDirectory(folder) }
                try await place(source.relativePath, path)
            }
            try fs.syncDirectories(folders, upTo: partial + "/segments")
            try await finishing?(partial, resolved)
            // New writes must never land in a file that came from elsewhere: the new database
            // continues in a WAL file of its own.
            let newest = createdWAL.compactMap(WALFormat.sequence(of:)).max() ?? (created.walStartSequence - 1)
            (try WALWriter(fs: fs, directory: partial + "/wal", sequence: newest + 1, validLength: nil)).close()
            try fs.syncDirectory(partial + "/wal")
            created.databaseID = UUID().uuidString.lowercased()
            created.writtenAt = Clock.milliseconds()
            try ManifestStore(fs: fs, directory: partial).publish(created)
            try fs.syncDirectory(partial)
            try fs.rename(partial, to: target)
        } catch {
            try? fs.removeTree(partial)
            throw error
        }
        try fs.syncDirectory(FilePaths.parent(of: target))
        return resolved
    }

    /// Links the segment files of a snapshot at `source` into the data directory `destination`.
    private static func link(segments: [Manifest.SegmentRecord], from source: String, to destination: String, fs: any FileSystem) throws {
        var folders = Set<String>()
        for record in segments {
            let path = destination + "/" + record.relativePath
            let folder = FilePaths.parent(of: path)
            if folders.insert(folder).inserted { try fs.createDirectory(folder) }
            try fs.linkOrCopy(source + "/" + record.relativePath, to: path)
        }
        try fs.syncDirectories(folders, upTo: destination + "/segments")
    }
}
