import Foundation

/// Where the newest version of an id lives.
enum VersionLocation {
    case memtable(Memtable, slot: Int)
    case segment(Segment, row: Int)
    case deleted
}

/// A partition as readers and writers see it: its memtables and its segments in the current
/// version. Used under the engine's state lock.
struct PartitionView {
    let data: PartitionData
    /// Segments, oldest first.
    let segments: [LoadedSegment]

    var schema: CollectionSchema { data.schema }
    var memtablesNewestFirst: [Memtable] { data.memtablesNewestFirst }

    /// The newest version of `id`, or nil when the partition never held it.
    func locate(_ id: UUID) -> VersionLocation? {
        for table in memtablesNewestFirst {
            if let (entry, slot) = table.latest(id) { return entry.isTombstone ? .deleted : .memtable(table, slot: slot) }
        }
        for loaded in segments.reversed() {
            guard let segment = loaded.segment else { continue }
            if let row = segment.row(of: id) { return .segment(segment, row: row) }
            if segment.hasTombstone(id) { return .deleted }
        }
        return nil
    }

    /// The newest live version of `id` as an object, or nil when it does not exist or was deleted.
    func object(_ id: UUID) throws -> StoredObject? {
        switch locate(id) {
        case let .memtable(table, slot): return table.object(at: slot)
        case let .segment(segment, row): return try segment.object(at: row)
        case .deleted, nil: return nil
        }
    }

    /// Prepares the live memtable for a new version (or deletion) of `id`: hides every older
    /// one. Returns the creation time of the object's previous live version, if any.
    func hideOlderVersions(of id: UUID) -> Int64? {
        let memtable = data.memtable
        var createdAt: Int64?
        if let (entry, _) = memtable.latest(id), !entry.isTombstone { createdAt = entry.createdAt }
        var decided = memtable.latest(id) != nil
        for table in data.frozen.reversed() {
            if !decided, let (entry, _) = table.latest(id) {
                decided = true
                if !entry.isTombstone { createdAt = entry.createdAt }
            }
            table.hide(id)
        }
        for loaded in segments.reversed() {
            guard let segment = loaded.segment else { continue }
            if let row = segment.row(of: id) {
                if !decided { createdAt = segment.timestamps(at: row).createdAt }
                decided = true
                loaded.markDead(row)
            } else if !decided, segment.hasTombstone(id) {
                decided = true
            }
        }
        return createdAt
    }

    /// Recomputes every segment's dead rows from scratch (on open and when a tenant is
    /// activated): a row is dead when its id is in a newer segment (as a row or a tombstone) or a
    /// memtable. Works on sorted ids (segments keep theirs sorted), not on a hash set: opening
    /// a million rows costs milliseconds, not hundreds of them.
    func recomputeDeadRows() {
        var newer = memtablesNewestFirst.flatMap(\.ids).map(UUIDOrder.init).sorted()
        let present = segments.filter { $0.segment != nil }
        for (position, loaded) in present.enumerated().reversed() {
            let segment = loaded.segment!
            loaded.replaceDeadRows(segment.rows(withIDsIn: newer))
            if position > 0 { newer = UUIDOrder.merge(newer, UUIDOrder.merge(segment.sortedIDs(), segment.sortedTombstones())) }
        }
    }

    /// Marks the rows of `loaded`, a segment new in this version, that newer segments (those
    /// after it) and the memtables replace.
    func markRowsHiddenByNewerSources(_ loaded: LoadedSegment) {
        guard let segment = loaded.segment, let position = segments.firstIndex(where: { $0 === loaded }) else { return }
        func hide(_ id: UUID) {
            if let row = segment.row(of: id) { loaded.markDead(row) }
        }
        for newer in segments[(position + 1)...] {
            guard let other = newer.segment else { continue }
            for row in 0..<other.rowCount { hide(other.id(at: row)) }
            for index in 0..<other.tombstoneCount { hide(other.tombstone(at: index)) }
        }
        for table in memtablesNewestFirst { for id in table.ids { hide(id) } }
    }

    /// The number of live objects.
    var liveCount: Int {
        var count = memtablesNewestFirst.reduce(0) { $0 + $1.liveCount }
        for loaded in segments {
            guard let segment = loaded.segment else { continue }
            count += segment.rowCount - loaded.deadCount
        }
        return count
    }
}
