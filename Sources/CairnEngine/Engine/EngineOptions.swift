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
    /// Merge a partition's segments into one when it has this many.
    public var compactionSegmentCount = 4
    public var durability = Durability.synchronous
    /// Where the engine reports background work and recovery.
    public var logger = Logger(label: "cairn.engine")

    public init() {}
}
