import Foundation

extension Engine {
    /// Publishes the manifest that `edit` makes of the current one and installs the version it
    /// describes: the one way the set of live segment files changes (LevelDB's
    /// `VersionSet::LogAndApply`). New segment files are mapped and checked before the manifest
    /// names them. `alongside` runs under the state lock in the same step as the switch (a
    /// flush retires the memtables its segments replace there), so readers see either the old
    /// version or the new one, never a mix. Files only the old manifest needed are deleted
    /// afterwards. Only the maintenance thread calls this, so edits never race.
    func logAndApply(_ edit: VersionEdit, alongside: (inout EngineState) -> Void = { _ in }) throws {
        let (previous, partitions, schemas) = state.withLock { ($0.version.manifest, $0.partitions, $0.partitions.mapValues(\.schema)) }
        guard let next = previous.applying(edit) else {
            for record in edit.added { try? fs.remove(directory + "/" + record.relativePath) }
            return
        }
        var mapped: [String: LoadedSegment] = [:]
        for record in edit.added {
            guard let partition = partitions[record.partition], partition.incarnation == record.incarnation else { continue }
            mapped[record.id] = try applier.loader.load(record, schema: schemas[record.partition]!)
        }
        try manifests.publish(next)
        try state.withLock { state in
            alongside(&state)
            // A tenant attached while this edit was made stays: its record is after `next`'s checkpoint.
            let installed = next.keepingAttachments(of: state.version.manifest, since: previous)
            state.version = try Version(manifest: installed, reusing: state.version, partitions: state.partitions,
                                        mapped: mapped, loader: applier.loader)
            for record in edit.added {
                guard let partition = state.partitions[record.partition], partition.incarnation == record.incarnation else { continue }
                let view = state.view(of: partition)
                if let added = view.segments.first(where: { $0.record.id == record.id }) { view.markRowsHiddenByNewerSources(added) }
            }
        }
        removeFilesNoLongerNeeded(previous: previous, current: next)
    }
}
