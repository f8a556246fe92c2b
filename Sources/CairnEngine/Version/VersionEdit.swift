import Foundation

/// One change to the set of live segment files. `Manifest.applying(_:)` is the only function
/// that turns an edit into the next manifest; `Engine.logAndApply(_:)` publishes it and
/// installs the version it describes (LevelDB's `VersionEdit`).
enum VersionEdit: Sendable {
    /// A flush: everything up to `lsn` is now in `catalog` and in the segments, `added` being
    /// the memtables frozen at `lsn`; recovery starts at WAL file `walStartSequence`. Segments of
    /// partitions the catalog no longer holds are dropped, and WAL files brought back by a
    /// rollback are no longer needed.
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
            next.segments = segments.filter { catalog.incarnation(of: $0.partition) == $0.incarnation } + added
        case let .merge(inputs, output):
            guard inputs.isSubset(of: Set(segments.map(\.id))),
                  let firstInput = segments.firstIndex(where: { inputs.contains($0.id) }) else { return nil }
            next.segments.removeAll { inputs.contains($0.id) }
            if let output { next.segments.insert(output, at: firstInput) }
        }
        return next
    }
}
