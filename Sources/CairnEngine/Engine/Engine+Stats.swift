import Foundation

/// Counts and sizes that describe a database at one moment.
public struct EngineStats: Sendable, Codable, Hashable {
    /// Collections in the catalog.
    public var collections: Int
    /// Tenants of all multi-tenant collections, active or not.
    public var tenants: Int
    /// Live objects in every loaded partition.
    public var objects: Int
    /// Objects in memtables, not yet flushed to segments.
    public var unflushedObjects: Int
    /// Vectors in memtables' live graphs (searched through the graph).
    public var indexedVectors: Int
    /// Vectors in memtables waiting for the background indexer (searched exactly meanwhile).
    public var unindexedVectors: Int
    /// Live segment files, and their bytes.
    public var segments: Int
    /// The bytes of the live segment files.
    public var segmentBytes: Int
    /// WAL files in the data directory, and their bytes.
    public var walFiles: Int
    /// The bytes of those WAL files.
    public var walBytes: Int
    /// WAL written since the last checkpoint: what a restart after a crash replays.
    public var walBytesSinceCheckpoint: Int
    /// How long that replay would take, from the replay speed measured at open.
    public var estimatedReplaySeconds: Double
    /// Local snapshots (same disk as the database: not backups).
    public var snapshots: Int
    /// The open storage-snapshot window, if any.
    public var storageSnapshotWindow: StorageSnapshotLabel?
    /// Every mutation up to this LSN is in segments and the manifest.
    public var checkpointLSN: UInt64
    /// The newest durable LSN.
    public var lastLSN: UInt64
    /// The number of the manifest `CURRENT` names.
    public var manifestSequence: Int
    /// Segment bytes written since the database was opened: by flushes (new data) and by
    /// compaction (data written again). (flushed + compacted) / flushed is the write amplification.
    public var segmentBytesFlushed = 0
    /// Segment bytes written by compaction since the database was opened (data written again).
    public var segmentBytesCompacted = 0
    /// What the loaded segments' searches read: vectors, graphs and quantized codes (mapped
    /// from the files; the kernel keeps the pages searches use).
    public var searchMemory = SearchMemory()
}

/// The bytes of segment blocks that searches read.
public struct SearchMemory: Sendable, Codable, Hashable {
    /// Full vectors (exact distances, re-ranking, walks without codes).
    public var vectorBytes = 0
    /// HNSW graphs (links and levels).
    public var graphBytes = 0
    /// Quantized codes (walks of collections that quantize).
    public var codeBytes = 0
    /// Sign sketches (walks over full vectors).
    public var sketchBytes = 0

    /// No bytes, or the given ones.
    public init(vectorBytes: Int = 0, graphBytes: Int = 0, codeBytes: Int = 0, sketchBytes: Int = 0) {
        self.vectorBytes = vectorBytes
        self.graphBytes = graphBytes
        self.codeBytes = codeBytes
        self.sketchBytes = sketchBytes
    }

    /// Decodes stats from servers that predate sketches too (their `sketchBytes` is 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        vectorBytes = try container.decode(Int.self, forKey: .vectorBytes)
        graphBytes = try container.decode(Int.self, forKey: .graphBytes)
        codeBytes = try container.decode(Int.self, forKey: .codeBytes)
        sketchBytes = try container.decodeIfPresent(Int.self, forKey: .sketchBytes) ?? 0
    }

    static func + (lhs: SearchMemory, rhs: SearchMemory) -> SearchMemory {
        SearchMemory(vectorBytes: lhs.vectorBytes + rhs.vectorBytes, graphBytes: lhs.graphBytes + rhs.graphBytes,
                     codeBytes: lhs.codeBytes + rhs.codeBytes, sketchBytes: lhs.sketchBytes + rhs.sketchBytes)
    }
}

extension Engine {
    /// Counts and sizes of the database now.
    package func stats() -> EngineStats {
        let snapshot = state.withLock { state in
            let memtables = state.partitions.values.flatMap(\.memtablesNewestFirst)
            return (state.catalog, state.version.manifest, state.appliedLSN, state.segmentBytesWritten,
                    state.partitions.values.reduce(0) { $0 + state.view(of: $1).liveCount },
                    memtables, memtables.reduce(0) { $0 + $1.liveCount },
                    state.partitions.values.flatMap { state.view(of: $0).segments.compactMap(\.segment) }
                        .reduce(SearchMemory()) { $0 + $1.searchBytes },
                    (state.walBytesSinceCheckpoint, state.replayBytesPerSecond))
        }
        let (catalog, manifest, applied, written, objects, memtables, unflushed, searchMemory, replay) = snapshot
        let walFiles = ((try? fs.listDirectory(walDirectory)) ?? []).filter { WALFormat.sequence(of: $0) != nil || $0.hasPrefix(SnapshotLayout.restoredWALPrefix) }
        let walBytes = walFiles.reduce(0) { $0 + ((try? fs.fileSize(walDirectory + "/" + $1)) ?? 0) }
        return EngineStats(collections: catalog.collections.count,
                           tenants: catalog.tenants.values.reduce(0) { $0 + $1.count },
                           objects: objects, unflushedObjects: unflushed,
                           indexedVectors: memtables.reduce(0) { $0 + $1.graph.nodeCount },
                           unindexedVectors: memtables.reduce(0) { $0 + $1.graph.queuedCount },
                           segments: manifest.segments.count, segmentBytes: manifest.segments.reduce(0) { $0 + $1.bytes },
                           walFiles: walFiles.count, walBytes: walBytes, walBytesSinceCheckpoint: replay.0,
                           estimatedReplaySeconds: Double(replay.0) / replay.1, snapshots: snapshots.list().count, storageSnapshotWindow: storageSnapshotWindow,
                           checkpointLSN: manifest.checkpointLSN,
                           lastLSN: applied, manifestSequence: manifest.sequence,
                           segmentBytesFlushed: written.flush, segmentBytesCompacted: written.compaction,
                           searchMemory: searchMemory)
    }
}
