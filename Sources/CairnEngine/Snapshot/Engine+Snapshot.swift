import Foundation

extension Engine {
    var snapshots: SnapshotStore { SnapshotStore(fs: fs, directory: directory) }

    /// Takes a local snapshot: seals the WAL between two commit rounds (writers wait only for
    /// that), then hard-links the files of that moment into `snapshots/<id>/`. The cost grows
    /// with the number of files, not their bytes. A crash before the end leaves nothing listed.
    package func createSnapshot(label: String? = nil, trigger: SnapshotTrigger = .manual) async throws -> SnapshotInfo {
        try await createSnapshot(label: label, trigger: trigger, sparing: [])
    }

    /// Takes a snapshot; pruning safety snapshots afterwards never deletes those in `sparing`
    /// (a rollback's target).
    func createSnapshot(label: String?, trigger: SnapshotTrigger, sparing: Set<String>) async throws -> SnapshotInfo {
        if let label { try SnapshotInfo.checkLabel(label) }
        let snapshot = try await runBlocking { [self] in try takeSnapshot(label: label, trigger: trigger).info }
        if trigger.isAutomatic { pruneSafetySnapshots(keeping: sparing.union([snapshot.id])) }
        return snapshot
    }

    /// Takes a snapshot; with `digesting`, also the catalog and the digest of every loaded
    /// partition it accepts at that moment (begun under the state lock: finish them after).
    func takeSnapshot(label: String?, trigger: SnapshotTrigger, digesting: (@Sendable (PartitionKey) -> Bool)? = nil) throws
        -> (info: SnapshotInfo, catalog: Catalog, digests: [PartitionKey: CapturedDigest]) {
        let started = ContinuousClock.now
        // Files the captured manifest names must outlive the linking, even if a flush or a
        // compaction replaces them meanwhile.
        deletions.acquire()
        defer { deletions.release() }
        let point = try betweenCommitRounds { [self] wal in
            let pauseStarted = ContinuousClock.now
            let next = try wal.rotate()
            let (manifest, lsn, catalog, digests) = try state.withLock { state in
                (state.version.manifest, state.appliedLSN, state.catalog,
                 try state.partitions.filter { $0.value.isLoaded && digesting?($0.key) == true }.mapValues { try state.view(of: $0).beginDigest(usingStored: true) })
            }
            return (manifest: manifest, lsn: lsn, lastSealed: next - 1, pause: (ContinuousClock.now - pauseStarted).milliseconds,
                    catalog: catalog, digests: digests)
        }
        reachedStep("snapshot-sealed")
        let walNames = (point.manifest.restoredWAL ?? []) + (point.manifest.walStartSequence...point.lastSealed).map(WALFormat.fileName)
        let files = point.manifest.segments.map { SnapshotStore.SourceFile(source: directory + "/" + $0.relativePath, relativePath: $0.relativePath) }
            + walNames.map { SnapshotStore.SourceFile(source: walDirectory + "/" + $0, relativePath: "wal/" + $0) }
        let info = try snapshots.write(manifest: point.manifest, files: files, started: started, reachedStep: reachedStep, describe: { id, createdAt in
            SnapshotInfo(id: id, label: label, trigger: trigger, createdAt: createdAt, lsn: point.lsn, databaseID: point.manifest.databaseID,
                         fileCount: 0, bytes: 0, creationMilliseconds: 0, writerPauseMilliseconds: point.pause)
        })
        logger.debug("snapshot created", metadata: ["id": "\(info.id)", "lsn": "\(point.lsn)", "files": "\(info.fileCount)"])
        return (info, point.catalog, point.digests)
    }

    /// Finished snapshots whose description reads, oldest first.
    package func listSnapshots() -> [SnapshotInfo] { snapshots.list() }

    /// Every snapshot, oldest first, with the space it holds, what a quick look at its files
    /// finds wrong, and why it is kept. A snapshot whose description cannot be read is listed
    /// too (with the problem), so it can be seen and deleted.
    package func snapshotListing() -> [SnapshotUsage] {
        let store = snapshots
        let entries = store.entries()
        let reasons = SnapshotRetention(policy: options.safetySnapshots, now: Clock.milliseconds())
            .decide(entries.compactMap { try? $0.info.get() }, held: [])
        return entries.map { entry in
            switch entry.info {
            case let .success(info):
                var usage = store.usage(info)
                usage.retention = reasons[info.id]?.reason ?? ""
                return usage
            case let .failure(error):
                return SnapshotUsage(snapshot: SnapshotInfo.unreadable(id: entry.id), sharedBytes: 0, exclusiveBytes: 0,
                                     problems: [error.description], retention: "unreadable: delete it, or repair its snapshot.json")
            }
        }.sorted { ($0.snapshot.createdAt, $0.snapshot.id) < ($1.snapshot.createdAt, $1.snapshot.id) }
    }

    /// One snapshot as `snapshotListing` shows it, or `snapshotNotFound`.
    package func snapshotUsage(_ id: String) throws -> SnapshotUsage {
        guard snapshots.isValidID(id), fs.exists(snapshots.path(id)),
              let usage = snapshotListing().first(where: { $0.snapshot.id == id }) else { throw CairnError.snapshotNotFound(id) }
        return usage
    }

    /// Reads every byte of a snapshot: see `SnapshotStore.verify`.
    package func verifySnapshot(_ id: String) async throws -> VerifyReport {
        guard snapshots.isValidID(id), fs.exists(snapshots.path(id)) else { throw CairnError.snapshotNotFound(id) }
        return try await runBlocking { [snapshots] in snapshots.verify(id) }
    }

    /// Deletes a snapshot, damaged or not. Only files that nothing else links to free space.
    package func deleteSnapshot(_ id: String) throws { try snapshots.delete(id) }

    /// Applies the retention of automatic safety snapshots (`SnapshotRetention`); those in
    /// `kept` stay whatever it says. Manual snapshots are never pruned.
    func pruneSafetySnapshots(keeping kept: Set<String>) {
        let decisions = SnapshotRetention(policy: options.safetySnapshots, now: Clock.milliseconds()).decide(snapshots.list(), held: kept)
        for (id, decision) in decisions.sorted(by: { $0.key < $1.key }) where !decision.keep {
            do { try snapshots.delete(id) } catch {
                logger.warning("could not prune a safety snapshot", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        }
    }
}

extension Engine {
    /// Takes an automatic snapshot before a risky operation, when the policy asks for them;
    /// returns nil when it does not.
    package func takeSafetySnapshot(before operation: String) async throws -> SnapshotInfo? {
        guard options.safetySnapshots.enabled else { return nil }
        return try await createSnapshot(label: "before \(operation)", trigger: .safety(operation: operation))
    }

    /// Deletes a safety snapshot taken for an operation that then failed and changed nothing,
    /// so it never takes the place of one that matters.
    package func discardSafetySnapshot(_ snapshot: SnapshotInfo?) {
        guard let snapshot, snapshot.trigger.isAutomatic else { return }
        do { try snapshots.delete(snapshot.id) } catch {
            logger.warning("could not delete an unneeded safety snapshot", metadata: ["id": "\(snapshot.id)", "error": "\(error)"])
        }
    }

    /// The number of objects above which an import counts as a bulk import.
    package var bulkImportThreshold: Int { options.safetySnapshots.bulkImportObjects }
}
