import Foundation
import Logging

/// How writes reach the disk before they are acknowledged.
public enum Durability: String, Sendable, Codable {
    /// A write returns after its WAL record is `fdatasync`ed (group commit shares each sync).
    case synchronous
    /// A write returns after its record is handed to the OS, without waiting for the disk: an OS
    /// crash or power loss can lose the newest acknowledged writes. Only when asked for by name.
    case relaxed
}

/// Tuning knobs of the storage engine. The defaults suit most databases.
public struct EngineOptions: Sendable {
    /// Flush the in-memory part to segments when it holds about this many bytes.
    public var memtableFlushBytes = 64 << 20
    /// Start a new WAL file when the current one reaches this size.
    public var walFileBytes = 64 << 20
    /// Merge this many (or more) adjacent segments of similar size into one (size-tiered
    /// compaction, `CompactionPolicy`); a segment with 30% dead rows is rewritten on its own.
    public var compactionSegmentCount = 4
    /// The largest segment of the smallest compaction tier (each next tier is 4 times larger).
    package var compactionTierBytes = 4 << 20
    /// Above this many bytes of vectors, the exact scan of a selective filter's rows reads a
    /// row's vector only when the segment's sign sketches do not rule it out, as graph walks do
    /// (`PartitionSearch`): about a core's second-level cache, beyond which the vectors do not
    /// stay cached from one query to the next. Below it a bound costs about what reading a
    /// cached vector does, and the bounds' table what a hundred of them do. Measured on 59k text
    /// embeddings, 3% allowed (about 1,770 rows): 384-d 11k → 18k queries a second (recall@10
    /// 1.0 → 0.998); 256-d 7–9% slower (it was 10–22% slower at 590 rows, under this threshold).
    package var screenedScanBytes = 1 << 20
    /// Threads that link HNSW graphs: a flush finishing a memtable's graph, a compaction
    /// building a segment's, the background indexer while writes pause (while they arrive it
    /// links on one). Default: every core.
    public var graphBuildThreads = ProcessInfo.processInfo.activeProcessorCount
    /// Keep the process's C allocator from holding large freed buffers: on glibc, opening a
    /// database fixes the size above which a block gets its own mapping (returned to the system
    /// when freed) at glibc's default 128 KiB, instead of letting it rise as large blocks are
    /// freed. Measured: peak memory of ingest and flush 8-19% lower, and 15-24 MiB less
    /// resident after a flush of 60-100k vectors. It is process-wide: turn it off when the host
    /// application tunes its allocator itself. Default: on.
    public var limitsAllocatorRetention = true
    /// Whether a write is acknowledged after its WAL record is synced (the default) or only written.
    public var durability = Durability.synchronous
    /// Checkpoint (flush) once the WAL since the last checkpoint holds this many bytes, so a
    /// restart after a crash replays at most about this much.
    public var checkpointWALBytes = 256 << 20
    /// …or once the oldest unflushed write is this many seconds old.
    public var checkpointInterval: Double = 300
    /// The automatic snapshots taken before risky operations.
    public var safetySnapshots = SafetySnapshotPolicy()
    /// Create a new, empty database when the directory holds none. Tools that only read or
    /// maintain an existing database turn this off, so a mistyped path is an error.
    public var createIfMissing = true
    /// Listen on `control.sock` in the data directory (owner only) so that `cairn` commands run
    /// by the same user work while this process holds the database open.
    public var controlSocket = true
    /// Where the engine reports background work and recovery.
    public var logger = Logger(label: "cairn.engine")
    /// Every file operation goes through this: the POSIX file system, or in tests one that
    /// simulates power loss and injects errors.
    package var fileSystem: any FileSystem = LocalFileSystem()
    /// Called with the name of each step of a multi-step file operation (`snapshot-linked`,
    /// `rollback-published`, …), so crash tests can stop exactly between two steps.
    package var reachedStep: @Sendable (String) -> Void = { _ in }

    /// The defaults: see each property.
    public init() {}
}

/// When Cairn takes a snapshot by itself before a risky operation, and how many it keeps.
public struct SafetySnapshotPolicy: Sendable {
    /// Take them at all (drop collection, remove tenant, bulk import, rollback).
    public var enabled = true
    /// Keep at most this many automatic snapshots (the newest).
    public var keepLast = 5
    /// Delete automatic snapshots older than this many seconds (7 days by default).
    public var maxAge: Double = 7 * 24 * 3600
    /// An import of more objects than this is a bulk import.
    public var bulkImportObjects = 10_000

    /// The defaults: see each property.
    public init() {}
}
