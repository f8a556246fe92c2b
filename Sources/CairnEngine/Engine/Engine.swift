import Foundation
import Logging
import Synchronization

/// The storage engine of one data directory: one ordered WAL, memtables, immutable segments and a
/// manifest switched atomically. Writers go through the commit pipeline; readers take the state
/// lock briefly and see every acknowledged write.
package final class Engine: Sendable {
    /// The data directory.
    package let directory: String
    let options: EngineOptions
    let logger: Logger
    let manifests: ManifestStore
    let state: Mutex<EngineState>
    let commits: CommitQueue
    let maintenance: MaintenanceWorker
    let applier: StateApplier
    let indexer: GraphIndexer
    /// Holds back file deletions while a snapshot links the files of one moment, or while a
    /// storage-snapshot window is open.
    let deletions: FileDeletionHold
    /// The open storage-snapshot window (its label is in the data directory).
    let storageWindow: Mutex<StorageSnapshotLabel?>
    private let lock: any DirectoryLock

    /// The file system every file operation goes through.
    var fs: any FileSystem { options.fileSystem }
    var walDirectory: String { directory + "/wal" }
    var segmentsDirectory: String { directory + "/segments" }

    init(directory: String, options: EngineOptions, lock: any DirectoryLock, state: EngineState, wal: WALWriter, indexer: GraphIndexer,
         storageWindow: StorageSnapshotLabel?) {
        self.directory = directory
        self.options = options
        self.logger = options.logger
        self.lock = lock
        self.manifests = ManifestStore(fs: options.fileSystem, directory: directory)
        self.commits = CommitQueue(catalog: state.catalog, nextLSN: state.appliedLSN + 1, wal: wal)
        self.state = Mutex(state)
        self.maintenance = MaintenanceWorker()
        self.indexer = indexer
        self.storageWindow = Mutex(storageWindow)
        self.deletions = FileDeletionHold(fs: options.fileSystem)
        if storageWindow != nil { deletions.acquire() }
        self.applier = StateApplier(loader: SegmentLoader(fs: options.fileSystem, directory: directory), indexer: indexer)
    }

    /// Starts the commit pipeline, the maintenance thread and the graph indexer.
    func start() {
        indexer.start()
        commits.start { [self] in runCommitPipeline() }
        maintenance.start { [self] in try runMaintenance($0) }
    }

    /// Stops background work, waits for queued writes to become durable and releases the
    /// directory lock. The engine cannot be used afterwards.
    package func close() async {
        await shutdown().release()
    }

    /// Stops background work and waits for queued writes, but keeps the directory locked for
    /// the caller (a rollback works on the files of a closed database).
    func shutdown() async -> any DirectoryLock {
        await maintenance.stop()
        await commits.stop()
        await indexer.stop()
        return lock
    }

    /// Reports reaching a named step of a multi-step file operation (see `EngineOptions.reachedStep`).
    package func reachedStep(_ name: String) { options.reachedStep(name) }

    /// The random id the database was given when it was created.
    package var databaseID: String { state.withLock { $0.version.manifest.databaseID } }

    /// The current catalog (collections, tenants, aliases, access control).
    package var catalog: Catalog { state.withLock { $0.catalog } }
}

/// Everything readers see, guarded by the engine's state lock.
struct EngineState: @unchecked Sendable {
    /// The catalog as of `appliedLSN`.
    var catalog: Catalog
    var partitions: [PartitionKey: PartitionData] = [:]
    /// Every record up to this LSN is durable and applied.
    var appliedLSN: UInt64
    /// The live segment files and the manifest `CURRENT` names.
    var version: Version
    /// Bytes held by all live memtables (the flush trigger).
    var memtableBytes = 0
    /// WAL bytes written since the memtables were last frozen for a checkpoint, and when the
    /// first of them was written (ms since the epoch): the checkpoint policy's triggers.
    var walBytesSinceCheckpoint = 0
    var firstUnflushedWriteAt: Int64?
    /// How long the last freeze held the commit pipeline (the writer pause of a checkpoint).
    var lastFreezePauseMilliseconds = 0.0
    /// Segment bytes written by flushes and by compaction since the database was opened.
    var segmentBytesWritten = (flush: 0, compaction: 0)
    /// How fast recovery replays the WAL (bytes/s): measured at open, or a typical figure.
    var replayBytesPerSecond: Double = 150e6
    /// Segment files a tenant attachment mapped and checked before logging its record, by id:
    /// applying the record then cannot fail on them, and does not map them under the lock.
    var preloadedSegments: [String: Segment] = [:]

    /// The partition a read or write addresses, checked against the catalog.
    func partition(_ collection: String, tenant: String?) throws -> PartitionView {
        try view(of: try catalog.partition(collection, tenant: tenant))
    }

    /// The partition `key` with its segments in the current version.
    func view(of key: PartitionKey) throws -> PartitionView {
        guard let data = partitions[key] else { throw CairnError.tenantNotFound(collection: key.collection, tenant: key.tenant) }
        return view(of: data)
    }

    func view(of data: PartitionData) -> PartitionView {
        PartitionView(data: data, segments: version.segments(of: data))
    }

    /// Replaces the version by the one its manifest describes for the partitions as they are
    /// now (after a tenant is loaded, unloaded or removed).
    mutating func refreshVersion(loader: SegmentLoader) throws {
        version = try Version(manifest: version.manifest, reusing: version, partitions: partitions, loader: loader)
    }
}
