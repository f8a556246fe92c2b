/// Why a snapshot was taken.
public enum SnapshotTrigger: Sendable, Codable, Hashable {
    /// Asked for by a person or a program.
    case manual
    /// Taken automatically before a risky operation, named here (`drop collection docs`).
    case safety(operation: String)
    /// The recovery point of a backup in progress: kept while the backup reads it, deleted when
    /// it ends, and at the next open if a crash ended it. Retention never prunes it.
    case backup

    /// Whether Cairn took the snapshot itself, before a risky operation (and prunes it by retention).
    public var isAutomatic: Bool { if case .safety = self { true } else { false } }

    /// The kind of operation a safety snapshot was taken before (`drop collection`, `bulk
    /// import`): retention keeps the newest few of each kind, so a run of one kind never evicts
    /// the snapshot that holds what another kind of operation removed.
    public var retentionGroup: String? {
        guard case let .safety(operation) = self else { return nil }
        for kind in ["drop collection", "remove tenant", "bulk import", "rollback", "restore"] where operation.hasPrefix(kind) {
            return kind
        }
        return operation.split(separator: " ").prefix(2).joined(separator: " ")
    }

    private enum CodingKeys: String, CodingKey { case kind, operation }

    /// Stored as `{"kind": "manual"}`, `{"kind": "backup"}` or `{"kind": "safety", "operation": "drop collection docs"}`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .manual: try container.encode("manual", forKey: .kind)
        case .backup: try container.encode("backup", forKey: .kind)
        case let .safety(operation):
            try container.encode("safety", forKey: .kind)
            try container.encode(operation, forKey: .operation)
        }
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(String.self, forKey: .kind) {
        case "manual": self = .manual
        case "backup": self = .backup
        case "safety": self = .safety(operation: try container.decode(String.self, forKey: .operation))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown snapshot kind \(other)")
        }
    }
}

/// A local snapshot: the database as it was at one LSN, kept as hard links to its immutable
/// files under `snapshots/<id>/`. It lives on the same disk as the database, so it protects
/// against mistakes, not against losing the disk: a snapshot is not a backup.
public struct SnapshotInfo: Sendable, Codable, Hashable {
    /// Sortable and unique: the creation time (UTC) and a random suffix.
    public var id: String
    /// The name a person gave the snapshot, if any.
    public var label: String?
    /// Who took the snapshot and why.
    public var trigger: SnapshotTrigger
    /// Creation time, ms since the epoch.
    public var createdAt: Int64
    /// Every acknowledged write up to this LSN is in the snapshot, none after it.
    public var lsn: UInt64
    /// The database the snapshot was taken of.
    public var databaseID: String
    /// Segment and WAL files linked (the manifest not counted).
    public var fileCount: Int
    /// The bytes of those files (shared with the database while it still uses them).
    public var bytes: Int
    /// Wall time of the creation, and how long writers were held for it (the WAL rotation).
    public var creationMilliseconds: Double
    /// How long writers waited for the snapshot.
    public var writerPauseMilliseconds: Double
    /// The size of every WAL file linked, by name: lets `list` notice a missing or cut file
    /// without reading it. Absent in snapshots taken before it was recorded.
    public var walFileSizes: [String: Int]?
}

extension SnapshotInfo {
    /// Labels are for people: at most 200 characters, no control characters (newlines,
    /// terminal escapes) that would garble a listing.
    static func checkLabel(_ label: String) throws {
        guard label.count <= 200 else { throw CairnError.invalidArgument("a snapshot label has at most 200 characters (this one has \(label.count))") }
        if label.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw CairnError.invalidArgument("a snapshot label cannot hold control characters (newlines, tabs, terminal escapes)")
        }
    }

    /// Stands for a snapshot whose description cannot be read, so it can still be listed and deleted.
    static func unreadable(id: String) -> SnapshotInfo {
        SnapshotInfo(id: id, label: nil, trigger: .manual, createdAt: 0, lsn: 0, databaseID: "", fileCount: 0, bytes: 0,
                     creationMilliseconds: 0, writerPauseMilliseconds: 0)
    }
}

/// A snapshot with the part of its bytes that no other name refers to (what deleting it frees).
public struct SnapshotUsage: Sendable, Codable, Hashable {
    /// The snapshot described.
    public var snapshot: SnapshotInfo
    /// Bytes in files also linked from the live database or other snapshots.
    public var sharedBytes: Int
    /// Bytes only this snapshot holds.
    public var exclusiveBytes: Int
    /// What a quick look found wrong (missing files, wrong sizes, an unreadable description);
    /// empty when the snapshot looks whole. `snapshot verify` reads every byte.
    public var problems: [String] = []
    /// Why the snapshot is kept (manual, or which safety rule holds it and until when).
    public var retention: String = ""
}
