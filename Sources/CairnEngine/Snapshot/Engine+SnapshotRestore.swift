import Foundation

/// What a rollback did.
public struct RollbackReport: Sendable, Codable, Hashable {
    /// The snapshot the database returned to.
    public var snapshot: SnapshotInfo
    /// The snapshot of the state before the rollback (roll back to it to undo).
    public var safetySnapshot: SnapshotInfo?
    public var milliseconds: Double
}

extension Engine {
    /// Returns the database in `directory` (which must not be open elsewhere) to snapshot `id`:
    /// every layer as of the snapshot's LSN. A safety snapshot of the current state is taken
    /// first (unless the policy disables it), so the rollback can itself be undone. The switch
    /// is one atomic manifest change: a crash leaves either the old or the new state.
    public static func rollback(directory: String, to id: String, options: EngineOptions = EngineOptions()) async throws -> RollbackReport {
        let started = ContinuousClock.now
        let engine = try await open(at: directory, options: options)
        let target: SnapshotInfo, safety: SnapshotInfo?
        do {
            target = try engine.snapshots.info(id)
            safety = options.safetySnapshots.enabled
                ? try await engine.createSnapshot(label: "before rollback to \(id)", trigger: .safety(operation: "rollback to \(id)"),
                                                  sparing: [id])
                : nil
        } catch {
            await engine.close()
            throw error
        }
        let lock = await engine.shutdown()
        defer { lock.release() }
        CrashPoint.reach("rollback-safety-taken")
        try await runBlocking { try installSnapshot(id, in: directory) }
        CrashPoint.reach("rollback-published")
        options.logger.debug("rolled back", metadata: ["snapshot": "\(id)", "lsn": "\(target.lsn)"])
        return RollbackReport(snapshot: target, safetySnapshot: safety, milliseconds: (ContinuousClock.now - started).milliseconds)
    }

    /// Makes snapshot `id` the state of the (closed, locked) database in `directory`: links its
    /// segments back, brings its WAL files back under names the old manifest ignores, starts a
    /// fresh numbered WAL file after every existing one, and publishes a manifest naming all of
    /// that. Until `CURRENT` switches, the old state stays whole.
    private static func installSnapshot(_ id: String, in directory: String) throws {
        let store = SnapshotStore(directory: directory)
        let manifests = ManifestStore(directory: directory)
        let snapshot = try store.manifest(id)
        let live = try manifests.loadCurrent()
        let walDirectory = directory + "/wal"
        try link(segments: snapshot.segments, from: store.path(id), to: directory)
        CrashPoint.reach("rollback-segments-linked")
        var restored: [String] = []
        for (index, name) in store.walFiles(id, manifest: snapshot).enumerated() {
            let restoredName = "\(SnapshotLayout.restoredWALPrefix)\(live.sequence + 1)-\(index)-\(name)"
            try FileSystem.linkOrCopy(store.path(id) + "/wal/" + name, to: walDirectory + "/" + restoredName)
            restored.append(restoredName)
        }
        CrashPoint.reach("rollback-wal-linked")
        let newestLive = FileSystem.listDirectory(walDirectory).compactMap(WALFormat.sequence(of:)).max() ?? live.walStartSequence
        let freshSequence = max(newestLive, live.walStartSequence) + 1
        (try WALWriter(directory: walDirectory, sequence: freshSequence, validLength: nil)).close()
        try FileSystem.syncDirectory(walDirectory)
        CrashPoint.reach("rollback-wal-started")
        let manifest = Manifest(databaseID: live.databaseID, sequence: live.sequence + 1, checkpointLSN: snapshot.checkpointLSN,
                                walStartSequence: freshSequence, restoredWAL: restored, catalog: snapshot.catalog,
                                segments: snapshot.segments, writtenAt: Clock.milliseconds())
        try manifests.publish(manifest)
    }

    /// Creates an independent database at `target` from snapshot `id` of the database in
    /// `directory`. Files are hard-linked (they are immutable; each database only ever adds new
    /// files), so a clone costs no copy on the same file system; it gets its own database id and
    /// its own new WAL file, so writes to one never show in the other.
    public static func cloneSnapshot(_ id: String, of directory: String, to target: String) async throws -> SnapshotInfo {
        try await runBlocking { try clone(id, of: directory, to: target) }
    }

    private static func clone(_ id: String, of directory: String, to target: String) throws -> SnapshotInfo {
        let store = SnapshotStore(directory: directory)
        let info = try store.info(id)
        let snapshot = try store.manifest(id)
        if FileSystem.exists(target) {
            guard FileSystem.listDirectory(target).isEmpty else { throw CairnError.targetNotEmpty(path: target) }
            try FileSystem.removeTree(target)
        }
        let partial = target + SnapshotLayout.partialPrefix + "clone"
        try FileSystem.removeTree(partial)
        for folder in ["wal", "manifests", "segments"] { try FileSystem.createDirectory(partial + "/" + folder) }
        try link(segments: snapshot.segments, from: store.path(id), to: partial)
        let walNames = store.walFiles(id, manifest: snapshot)
        for name in walNames { try FileSystem.linkOrCopy(store.path(id) + "/wal/" + name, to: partial + "/wal/" + name) }
        // New writes must never land in a linked file: the clone continues in a file of its own.
        let newest = walNames.compactMap(WALFormat.sequence(of:)).max() ?? (snapshot.walStartSequence - 1)
        (try WALWriter(directory: partial + "/wal", sequence: newest + 1, validLength: nil)).close()
        try FileSystem.syncDirectory(partial + "/wal")
        var manifest = snapshot
        manifest.databaseID = UUID().uuidString.lowercased()
        manifest.writtenAt = Clock.milliseconds()
        try ManifestStore(directory: partial).publish(manifest)
        try FileSystem.syncDirectory(partial)
        try FileSystem.rename(partial, to: target)
        let parent = (target as NSString).deletingLastPathComponent
        try FileSystem.syncDirectory(parent.isEmpty ? "." : parent)
        return info
    }

    /// Links the segment files of a snapshot at `source` into the data directory `destination`.
    private static func link(segments: [Manifest.SegmentRecord], from source: String, to destination: String) throws {
        var folders = Set<String>()
        for record in segments {
            let path = destination + "/" + record.relativePath
            let folder = (path as NSString).deletingLastPathComponent
            if folders.insert(folder).inserted { try FileSystem.createDirectory(folder) }
            try FileSystem.linkOrCopy(source + "/" + record.relativePath, to: path)
        }
        for folder in folders { try FileSystem.syncDirectory(folder) }
        try FileSystem.syncDirectory(destination + "/segments")
    }
}
