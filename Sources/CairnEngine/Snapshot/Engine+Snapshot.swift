import Foundation

extension Engine {
    var snapshots: SnapshotStore { SnapshotStore(directory: directory) }

    /// Takes a local snapshot: seals the WAL between two commit rounds (writers wait only for
    /// that), then hard-links the files of that moment into `snapshots/<id>/`. The cost grows
    /// with the number of files, not their bytes. A crash before the end leaves nothing listed.
    public func createSnapshot(label: String? = nil, trigger: SnapshotTrigger = .manual) async throws -> SnapshotInfo {
        try await createSnapshot(label: label, trigger: trigger, sparing: [])
    }

    /// Takes a snapshot; pruning safety snapshots afterwards never deletes those in `sparing`
    /// (a rollback's target).
    func createSnapshot(label: String?, trigger: SnapshotTrigger, sparing: Set<String>) async throws -> SnapshotInfo {
        let snapshot = try await runBlocking { [self] in try takeSnapshot(label: label, trigger: trigger) }
        if trigger.isAutomatic { pruneSafetySnapshots(keeping: sparing.union([snapshot.id])) }
        return snapshot
    }

    private func takeSnapshot(label: String?, trigger: SnapshotTrigger) throws -> SnapshotInfo {
        let started = ContinuousClock.now
        // Files the captured manifest names must outlive the linking, even if a flush or a
        // compaction replaces them meanwhile.
        deletions.acquire()
        defer { deletions.release() }
        let point = try betweenCommitRounds { [self] wal in
            let pauseStarted = ContinuousClock.now
            let next = try wal.rotate()
            let (manifest, lsn) = state.withLock { ($0.manifest, $0.appliedLSN) }
            return (manifest: manifest, lsn: lsn, lastSealed: next - 1, pause: (ContinuousClock.now - pauseStarted).milliseconds)
        }
        CrashPoint.reach("snapshot-sealed")
        let store = snapshots
        try FileSystem.createDirectory(store.snapshotsDirectory)
        let createdAt = Clock.milliseconds()
        let id = SnapshotStore.newID(at: createdAt)
        let partial = store.snapshotsDirectory + "/" + SnapshotLayout.partialPrefix + id
        var links: [(from: String, to: String)] = point.manifest.segments.map { (directory + "/" + $0.relativePath, partial + "/" + $0.relativePath) }
        let walNames = (point.manifest.restoredWAL ?? []) + (point.manifest.walStartSequence...point.lastSealed).map(WALFormat.fileName)
        links += walNames.map { (walDirectory + "/" + $0, partial + "/wal/" + $0) }
        let folders = Set(links.map { ($0.to as NSString).deletingLastPathComponent })
        for folder in folders.sorted() { try FileSystem.createDirectory(folder) }
        var bytes = 0
        for link in links {
            try FileSystem.linkOrCopy(link.from, to: link.to)
            bytes += try FileSystem.fileSize(link.to)
        }
        CrashPoint.reach("snapshot-linked")
        try FileSystem.writeNewFile(partial + "/" + SnapshotLayout.manifestFile, try point.manifest.encoded())
        for folder in folders { try FileSystem.syncDirectory(folder) }
        let info = SnapshotInfo(id: id, label: label, trigger: trigger, createdAt: createdAt, lsn: point.lsn,
                                databaseID: point.manifest.databaseID, fileCount: links.count, bytes: bytes,
                                creationMilliseconds: (ContinuousClock.now - started).milliseconds,
                                writerPauseMilliseconds: point.pause)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileSystem.writeNewFile(partial + "/" + SnapshotLayout.infoFile, [UInt8](try encoder.encode(info)))
        try FileSystem.syncDirectory(partial)
        CrashPoint.reach("snapshot-described")
        try FileSystem.rename(partial, to: store.path(id))
        try FileSystem.syncDirectory(store.snapshotsDirectory)
        logger.debug("snapshot created", metadata: ["id": "\(id)", "lsn": "\(point.lsn)", "files": "\(links.count)"])
        return info
    }

    /// Finished snapshots, oldest first.
    public func listSnapshots() -> [SnapshotInfo] { snapshots.list() }

    /// One snapshot with how much of it is shared with the database and other snapshots.
    public func snapshotUsage(_ id: String) throws -> SnapshotUsage { snapshots.usage(try snapshots.info(id)) }

    /// Deletes a snapshot. Only files that nothing else links to free space.
    public func deleteSnapshot(_ id: String) throws { try snapshots.delete(id) }

    /// Applies the retention of automatic safety snapshots: keep the newest `keepLast`, and none
    /// older than `maxAge`, but always those in `kept`. Manual snapshots are never pruned.
    func pruneSafetySnapshots(keeping kept: Set<String>) {
        let policy = options.safetySnapshots
        let automatic = snapshots.list().filter(\.trigger.isAutomatic)
        let now = Clock.milliseconds()
        for (position, snapshot) in automatic.reversed().enumerated() where !kept.contains(snapshot.id) {
            let tooOld = Double(now - snapshot.createdAt) / 1000 > policy.maxAge
            if position >= policy.keepLast || tooOld {
                do { try snapshots.delete(snapshot.id) } catch {
                    logger.warning("could not prune a safety snapshot", metadata: ["id": "\(snapshot.id)", "error": "\(error)"])
                }
            }
        }
    }
}

extension Duration {
    var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}

extension Engine {
    /// Takes an automatic snapshot before a risky operation, when the policy asks for them;
    /// returns nil when it does not.
    public func takeSafetySnapshot(before operation: String) async throws -> SnapshotInfo? {
        guard options.safetySnapshots.enabled else { return nil }
        return try await createSnapshot(label: "before \(operation)", trigger: .safety(operation: operation))
    }

    /// The number of objects above which an import counts as a bulk import.
    public var bulkImportThreshold: Int { options.safetySnapshots.bulkImportObjects }
}
