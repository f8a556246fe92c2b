import Foundation

extension Engine {
    /// Merges the segments of every partition that has too many into one segment.
    func compactPartitions() throws {
        let candidates = state.withLock { state in
            state.partitions.values.filter { $0.isLoaded && $0.segments.count >= options.compactionSegmentCount }
                .map { ($0, $0.segments) }
        }
        for (partition, inputs) in candidates { try compact(partition, inputs: inputs) }
    }

    /// Merges all `inputs` (the oldest segments of a partition) into one: the newest version of
    /// each id survives, older versions and tombstones are dropped (nothing older remains for a
    /// tombstone to hide). The manifest swap makes the new file live and the old ones garbage.
    private func compact(_ partition: PartitionData, inputs: [LoadedSegment]) throws {
        var builder = SegmentBuilder(schema: partition.schema, expectedRows: inputs.reduce(0) { $0 + $1.record.rows })
        var seen = Set<UUID>()
        for loaded in inputs.reversed() {
            guard let segment = loaded.segment else { return }
            for row in 0..<segment.rowCount {
                let id = segment.id(at: row)
                guard seen.insert(id).inserted else { continue }
                let (createdAt, updatedAt) = segment.timestamps(at: row)
                builder.addRow(id: id, createdAt: createdAt, updatedAt: updatedAt, properties: try segment.properties(at: row),
                               vector: UnsafeBufferPointer(start: segment.vector(at: row), count: segment.dimensions))
            }
            for index in 0..<segment.tombstoneCount { seen.insert(segment.tombstone(at: index)) }
        }
        let record = builder.rowCount == 0 ? nil : try writeSegment(builder, partition: partition)
        let inputIDs = Set(inputs.map(\.record.id))
        let previous = state.withLock { $0.manifest }
        guard inputIDs.isSubset(of: Set(previous.segments.map(\.id))),
              let firstInput = previous.segments.firstIndex(where: { inputIDs.contains($0.id) }) else {
            if let record { try? fs.remove(directory + "/" + record.relativePath) }
            return
        }
        var segments = previous.segments
        segments.removeAll { inputIDs.contains($0.id) }
        if let record { segments.insert(record, at: firstInput) }
        var manifest = previous
        manifest.sequence += 1
        manifest.segments = segments
        manifest.writtenAt = Clock.milliseconds()
        try manifests.publish(manifest)
        let merged = try record.map { try applier.loader.load($0, schema: partition.schema) }
        state.withLock { state in
            state.manifest = manifest
            guard state.partitions[partition.key] === partition, partition.isLoaded else { return }
            partition.segments.removeAll { inputIDs.contains($0.record.id) }
            if let merged {
                partition.segments.insert(merged, at: 0)
                partition.markRowsHiddenByNewerSources(merged)
            }
        }
        removeFilesNoLongerNeeded(previous: previous, current: manifest)
        logger.debug("compacted", metadata: ["partition": "\(partition.key)", "inputs": "\(inputs.count)", "rows": "\(builder.rowCount)"])
    }
}
