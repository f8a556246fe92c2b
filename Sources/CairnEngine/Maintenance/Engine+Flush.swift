import Foundation
import Synchronization

extension Engine {
    /// The state captured when memtables are frozen: everything a checkpoint at `lsn` needs.
    struct FrozenState: @unchecked Sendable {
        var lsn: UInt64
        var catalog: Catalog
        /// The WAL file that starts right after `lsn`.
        var walStartSequence: Int
        /// Every frozen memtable, oldest first within a partition.
        var tables: [(partition: PartitionData, memtable: Memtable)]
    }

    /// One round of background work.
    func runMaintenance(_ round: MaintenanceWorker.Round) throws {
        expireStorageWindow()
        if round.flush { try flushMemtables() }
        // Compaction waits while a storage-snapshot window holds the files.
        if round.compact && storageWindow.withLock({ $0 == nil }) { try compactPartitions() }
    }

    /// Writes every memtable to segment files and publishes a manifest whose checkpoint is the
    /// LSN at which they were frozen; then the WAL before that point is deleted.
    func flushMemtables() throws {
        let frozen = try freezeMemtables()
        let previous = state.withLock { $0.version.manifest }
        guard frozen.lsn > previous.checkpointLSN || !frozen.tables.isEmpty else { return }
        var added: [Manifest.SegmentRecord] = []
        for (partition, memtable) in frozen.tables where frozen.catalog.incarnation(of: partition.key) == partition.incarnation {
            let record = try buildSegment(of: partition) { builder in
                // Every slot a row (the usual append-only ingest): the memtable's rows are the
                // segment's in arrival order, read in place and written once in the graph's
                // order, and its live graph, finished on every core, becomes the segment's.
                // Otherwise the builder copies the newest rows and builds its own graph over the
                // vectors read back from its file. Segments too small for a graph skip both.
                let rows = MemtableRows(memtable)
                if let rows {
                    builder.rowSource = rows
                    for _ in 0..<rows.count { builder.addSourceRow() }
                } else {
                    try memtable.forEachNewestSlot { slot in
                        let entry = memtable.entries[slot]
                        if entry.isTombstone {
                            builder.addTombstone(entry.id)
                        } else {
                            try builder.addRow(id: entry.id, createdAt: entry.createdAt, updatedAt: entry.updatedAt,
                                               properties: memtable.properties(at: slot), vector: memtable.vectorBuffer(at: slot))
                        }
                    }
                }
                if rows != nil && builder.rowCount >= SegmentFormat.graphThreshold {
                    memtable.graph.linkAll(threads: options.graphBuildThreads)
                    builder.prebuiltGraph = memtable.graph.completeIndex(slots: builder.rowCount)
                }
                if builder.prebuiltGraph == nil { memtable.graph.discardQueued() }
            }
            if let record {
                added.append(record)
                state.withLock { $0.segmentBytesWritten.flush += record.bytes }
            }
        }
        try logAndApply(.checkpoint(lsn: frozen.lsn, catalog: frozen.catalog, walStartSequence: frozen.walStartSequence, added: added)) { _ in
            for (partition, memtable) in frozen.tables { partition.frozen.removeAll { $0 === memtable } }
        }
        logger.debug("flushed", metadata: ["checkpoint": "\(frozen.lsn)", "segments": "\(added.count)"])
    }

    /// Asks the commit pipeline to seal the WAL and freeze the memtables between two batches,
    /// so that the frozen state is exactly the state as of one LSN.
    private func freezeMemtables() throws -> FrozenState {
        try betweenCommitRounds { [self] wal in
            let started = ContinuousClock.now
            let walStart = try wal.rotate()
            return state.withLock { state in
                defer { state.lastFreezePauseMilliseconds = (ContinuousClock.now - started).milliseconds }
                for partition in state.partitions.values where !partition.memtable.isEmpty {
                    partition.frozen.append(partition.memtable)
                    partition.memtable = Memtable(schema: partition.schema)
                }
                state.memtableBytes = 0
                state.walBytesSinceCheckpoint = 0
                state.firstUnflushedWriteAt = nil
                let tables = state.partitions.values.sorted { $0.key.description < $1.key.description }
                    .flatMap { partition in partition.frozen.map { (partition: partition, memtable: $0) } }
                return FrozenState(lsn: state.appliedLSN, catalog: state.catalog, walStartSequence: walStart, tables: tables)
            }
        }
    }

    /// Runs `body` on the commit pipeline between two rounds (no write is in flight, none starts
    /// until it returns) and waits for its result. A failure to start a new WAL file there
    /// disables writes, since the log can no longer be trusted to continue.
    func betweenCommitRounds<Result: Sendable>(_ body: @escaping @Sendable (WALWriter) throws -> Result) throws -> Result {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Swift.Result<Result, Error>?>(nil)
        commits.enqueue { [self] wal in
            defer { done.signal() }
            do {
                let value = try body(wal)
                outcome.withLock { $0 = .success(value) }
            } catch {
                commits.disable(.writesDisabled(reason: "could not start a new WAL file: \(error)"))
                outcome.withLock { $0 = .failure(error) }
            }
        }
        done.wait()
        return try outcome.withLock { $0! }.get()
    }

    /// Writes a new immutable segment file of `partition`: `fill` adds its rows and tombstones
    /// to the builder, which streams them to disk; then the file and its name are made durable.
    /// Returns its manifest record, or nil (and no file) when `fill` added nothing.
    func buildSegment(of partition: PartitionData, fill: (SegmentBuilder) throws -> Void) throws -> Manifest.SegmentRecord? {
        let id = Engine.newFileID()
        let folder = segmentsDirectory + "/\(partition.key.collection)/\(partition.key.tenant)"
        let created = !fs.exists(folder)
        try fs.createDirectory(folder)
        let schema = state.withLock { _ in partition.schema } // replaced under the lock when search settings change
        let builder = try SegmentBuilder(schema: schema, path: folder + "/" + id + ".seg", fs: fs)
        builder.graphBuildThreads = options.graphBuildThreads
        builder.reachedStep = options.reachedStep
        let file: (bytes: Int, crc32c: UInt32)
        do {
            try fill(builder)
            guard !builder.isEmpty else {
                builder.abandon()
                return nil
            }
            file = try builder.finish()
        } catch {
            builder.abandon()
            throw error
        }
        try fs.syncDirectory(folder)
        if created {
            try fs.syncDirectory(FilePaths.parent(of: folder))
            try fs.syncDirectory(segmentsDirectory)
        }
        return Manifest.SegmentRecord(id: id, partition: partition.key, incarnation: partition.incarnation, rows: builder.rowCount,
                                      tombstones: builder.tombstoneCount, bytes: file.bytes, crc32c: file.crc32c,
                                      fingerprint: builder.fingerprint)
    }

    /// A unique file id: 16 random hex digits.
    static func newFileID() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Deletes the segment files the previous manifest had and the current one does not, and the
    /// WAL files before the current checkpoint (postponed while a deletion hold is on).
    func removeFilesNoLongerNeeded(previous: Manifest, current: Manifest) {
        let live = Set(current.segments.map(\.relativePath))
        for record in previous.segments where !live.contains(record.relativePath) {
            deletions.remove(directory + "/" + record.relativePath)
        }
        let restored = Set(current.restoredWAL ?? [])
        for name in previous.restoredWAL ?? [] where !restored.contains(name) { deletions.remove(walDirectory + "/" + name) }
        for name in (try? fs.listDirectory(walDirectory)) ?? [] {
            if let sequence = WALFormat.sequence(of: name), sequence < current.walStartSequence {
                deletions.remove(walDirectory + "/" + name)
            }
        }
        deletions.remove(manifests.manifestsDirectory + "/" + Manifest.fileName(previous.sequence))
    }
}
