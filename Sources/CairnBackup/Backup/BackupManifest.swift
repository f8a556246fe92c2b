import CairnEngine
import Foundation

/// The record of one backup, `backups/<id>`, sealed, written after every blob it names: a
/// backup exists if and only if its manifest does. It is self-contained (it lists every blob
/// of every file it needs) and complete (the engine manifest carries the catalog: schemas with
/// their ingestion configuration, tenants in every state, aliases, roles and users).
struct BackupManifest: Codable, Sendable {
    static let formatVersion = 1
    static let folder = "backups/"

    var formatVersion = BackupManifest.formatVersion
    var id: String
    /// ms since the epoch.
    var createdAt: Int64
    var tags: [String]
    /// The Cairn version that wrote the backup.
    var engineVersion: String
    /// The engine manifest of the recovery point (checkpoint, catalog at the checkpoint, segments).
    var manifest: Manifest
    /// The catalog at the recovery point's LSN (nil in backups written before it was recorded).
    var catalog: Catalog?
    /// The recovery point's LSN: every write acknowledged up to it is in the backup.
    var lsn: UInt64
    /// WAL files after the checkpoint, in replay order.
    var walFiles: [String]
    /// What a partial backup covers (nil: the whole database).
    var scope: PartitionScope? = nil
    /// Every file, segments and WAL, with the blobs that hold it.
    var files: [BackedUpFile]
    /// The files under the collections' declared sources (nil in backups written before sources were kept).
    var sources: [BackedUpSource]? = nil
    /// Declared sources that could not be stored, and why.
    var sourceProblems: [SourceProblem]? = nil
    /// What a restore must find when it opens the database.
    var summary: [PartitionSummary]
    var statistics: BackupStatistics

    /// The object name of backup `id`.
    static func objectName(_ id: String) -> String { folder + id }
}

/// What one partition held at the recovery point.
public struct PartitionSummary: Codable, Sendable, Hashable {
    public var collection: String
    public var tenant: String
    /// Live objects, or nil for an inactive tenant (its data is kept, not counted).
    public var objects: Int?
    public var dimensions: Int
    /// The content fingerprint of the live objects (nil for an inactive tenant, and in backups
    /// written before fingerprints were kept).
    public var fingerprint: ContentFingerprint?
    /// Queries with their exact answers at the recovery point, asked again after a restore.
    public var goldenQueries: [GoldenQuery]?

    /// The partition's key.
    package var key: PartitionKey { PartitionKey(collection: collection, tenant: tenant) }
}

/// How much a backup read and added.
public struct BackupStatistics: Codable, Sendable, Hashable {
    /// Files in the backup, and their bytes.
    public var files = 0
    public var bytes = 0
    /// Files the repository already held (recognised by identity, not read).
    public var filesReused = 0
    /// Bytes this backup added to the repository (packs and indexes, after compression).
    public var bytesAdded = 0
    /// Files under the collections' declared sources, their bytes, and how many were
    /// recognised as unchanged (same size and modification time) and not read.
    public var sourceFiles = 0
    public var sourceBytes = 0
    public var sourceFilesReused = 0
    public var seconds = 0.0

    init() {}

    /// Reads statistics written by any version: a count an older one did not keep is 0.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func count(_ key: CodingKeys) throws -> Int { try container.decodeIfPresent(Int.self, forKey: key) ?? 0 }
        files = try count(.files)
        bytes = try count(.bytes)
        filesReused = try count(.filesReused)
        bytesAdded = try count(.bytesAdded)
        sourceFiles = try count(.sourceFiles)
        sourceBytes = try count(.sourceBytes)
        sourceFilesReused = try count(.sourceFilesReused)
        seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
    }
}

/// One backup in full, as `backup show` prints it: what `BackupInfo` says, every layer of the
/// catalog, and every file with its size and number of blobs.
public struct BackupDetails: Codable, Sendable, Hashable {
    public struct File: Codable, Sendable, Hashable {
        public var path: String
        public var size: Int
        public var blobs: Int
    }

    public var info: BackupInfo
    /// The catalog at the recovery point: collections (schemas, ingestion configuration),
    /// tenants and their states, aliases, roles and users.
    public var catalog: Catalog
    public var files: [File]
}

/// A backup as `backup list` shows it.
public struct BackupInfo: Codable, Sendable, Hashable {
    public var id: String
    public var createdAt: Int64
    public var tags: [String]
    public var databaseID: String
    public var lsn: UInt64
    /// What a partial backup covers (nil: the whole database).
    public var scope: PartitionScope?
    /// Declared sources the backup could not store (missing paths, unreadable files).
    public var sourceProblems: [SourceProblem]
    public var summary: [PartitionSummary]
    public var statistics: BackupStatistics

    init(_ manifest: BackupManifest) {
        id = manifest.id
        createdAt = manifest.createdAt
        tags = manifest.tags
        databaseID = manifest.manifest.databaseID
        lsn = manifest.lsn
        scope = manifest.scope
        sourceProblems = manifest.sourceProblems ?? []
        summary = manifest.summary
        statistics = manifest.statistics
    }
}
