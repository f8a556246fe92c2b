import Foundation

/// One change to the set of live segment files. `Manifest.applying(_:)` is the only function
/// that turns an edit into the next manifest; `Engine.logAndApply(_:)` publishes it and
/// installs the version it describes (LevelDB's `VersionEdit`).
enum VersionEdit: Sendable {
    /// A flush: everything up to `lsn` is now in `catalog` and in the segments, `added` being
    /// the memtables frozen at `lsn`; recovery starts at WAL file `walStartSequence`. Segments of
    /// partitions the catalog no longer holds are dropped, and WAL files brought back by a
    /// rollback are no longer needed. Segments of tenants attached after `lsn` stay.
    case checkpoint(lsn: UInt64, catalog: Catalog, walStartSequence: Int, added: [Manifest.SegmentRecord])
    /// A compaction: the adjacent segments `inputs` are replaced by `output` (nil when nothing
    /// survived the merge), which takes the place of the oldest input.
    case merge(inputs: Set<String>, output: Manifest.SegmentRecord?)

    /// The segment files this edit adds.
    var added: [Manifest.SegmentRecord] {
        switch self {
        case let .checkpoint(_, _, _, added): return added
        case let .merge(_, output): return output.map { [$0] } ?? []
        }
    }
}

extension Manifest {
    /// The next manifest: this one with `edit` applied, or nil when the edit no longer applies
    /// (a merge whose inputs are not all live).
    func applying(_ edit: VersionEdit, at time: Int64 = Clock.milliseconds()) -> Manifest? {
        var next = self
        next.sequence += 1
        next.writtenAt = time
        switch edit {
        case let .checkpoint(lsn, catalog, walStartSequence, added):
            next.checkpointLSN = lsn
            next.catalog = catalog
            next.walStartSequence = walStartSequence
            next.restoredWAL = nil
            // Partitions attached after `lsn` are not in `catalog` yet; their record stays in the log.
            let attachedLater = Set(attachedAfterCheckpoint ?? []).filter { $0 > lsn }
            next.attachedAfterCheckpoint = attachedLater.sorted().nilIfEmpty
            next.segments = segments.filter { record in
                catalog.incarnation(of: record.partition) == record.incarnation || attachedLater.contains(record.incarnation.tenantLSN)
            } + added
        case let .merge(inputs, output):
            guard inputs.isSubset(of: Set(segments.map(\.id))),
                  let firstInput = segments.firstIndex(where: { inputs.contains($0.id) }) else { return nil }
            next.segments.removeAll { inputs.contains($0.id) }
            if let output { next.segments.insert(output, at: firstInput) }
        }
        return next
    }
}

extension Manifest {
    /// This manifest with `segments`, attached by the record at `lsn`, unless it already lists
    /// them (a manifest published, or captured by a snapshot, after the attachment was applied).
    func attaching(_ segments: [SegmentRecord], lsn: UInt64) -> Manifest {
        guard !(attachedAfterCheckpoint ?? []).contains(lsn), lsn > checkpointLSN else { return self }
        var next = self
        next.segments += segments
        next.attachedAfterCheckpoint = (attachedAfterCheckpoint ?? []) + [lsn]
        return next
    }

    /// `self` (the manifest an edit made of `previous`) with the tenant attachments that
    /// `current` gained since `previous` was read: the version a flush or compaction installs
    /// while an attachment committed in between. Their records are in the log after this
    /// manifest's checkpoint, so what is published without them is still complete.
    func keepingAttachments(of current: Manifest, since previous: Manifest) -> Manifest {
        let known = Set(previous.attachedAfterCheckpoint ?? [])
        let added = (current.attachedAfterCheckpoint ?? []).filter { !known.contains($0) }
        guard !added.isEmpty else { return self }
        let listed = Set(previous.segments.map(\.id))
        var next = self
        next.segments += current.segments.filter { !listed.contains($0.id) }
        next.attachedAfterCheckpoint = (attachedAfterCheckpoint ?? []) + added
        return next
    }
}

extension Array {
    /// Nil for an empty array, the array otherwise (for optional fields left out when empty).
    var nilIfEmpty: [Element]? { isEmpty ? nil : self }
}
