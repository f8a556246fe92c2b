import Foundation

extension Engine {
    /// Merges what the size-tiered policy picks in every partition, until it picks nothing
    /// (a merge can complete a run of the next tier).
    func compactPartitions() throws {
        let policy = CompactionPolicy(minimumRun: options.compactionSegmentCount, tierBase: options.compactionTierBytes)
        for _ in 0..<16 {
            let work = state.withLock { state in
                state.partitions.values.filter(\.isLoaded).compactMap { partition -> (PartitionData, [[LoadedSegment]])? in
                    let segments = partition.segments
                    let runs = policy.runs(segments.map { .init(bytes: $0.record.bytes, rows: $0.record.rows, deadRows: $0.deadCount) })
                    guard !runs.isEmpty else { return nil }
                    return (partition, runs.map { Array(segments[$0]) })
                }
            }
            guard !work.isEmpty else { return }
            for (partition, runs) in work {
                for inputs in runs { try compact(partition, inputs: inputs) }
            }
        }
    }

    /// Merges `inputs`, adjacent segments of a partition (oldest first), into one: the newest
    /// version of each id survives; rows dead because newer sources hide them are dropped.
    /// Tombstones are kept unless no older segment remains for them to hide. The manifest swap
    /// makes the new file live and the old ones garbage.
    private func compact(_ partition: PartitionData, inputs: [LoadedSegment]) throws {
        let (isOldestRun, deadRows) = state.withLock { _ in
            (partition.segments.first.map { $0 === inputs.first } ?? false, inputs.map(\.deadRows))
        }
        var builder = SegmentBuilder(schema: partition.schema, expectedRows: inputs.reduce(0) { $0 + $1.record.rows })
        var seen = Set<UUID>()
        var tombstones = Set<UUID>()
        for (position, loaded) in inputs.enumerated().reversed() {
            guard let segment = loaded.segment else { return }
            for row in 0..<segment.rowCount {
                let id = segment.id(at: row)
                guard seen.insert(id).inserted, !deadRows[position][row] else { continue }
                let (createdAt, updatedAt) = segment.timestamps(at: row)
                builder.addRow(id: id, createdAt: createdAt, updatedAt: updatedAt, properties: try segment.properties(at: row),
                               vector: UnsafeBufferPointer(start: segment.vector(at: row), count: segment.dimensions))
            }
            for index in 0..<segment.tombstoneCount {
                let id = segment.tombstone(at: index)
                seen.insert(id)
                if !isOldestRun { tombstones.insert(id) }
            }
        }
        for id in tombstones.sorted(by: { UUIDOrder($0) < UUIDOrder($1) }) { builder.addTombstone(id) }
        let record = builder.isEmpty ? nil : try writeSegment(builder, partition: partition)
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
            let position = partition.segments.firstIndex { inputIDs.contains($0.record.id) } ?? 0
            partition.segments.removeAll { inputIDs.contains($0.record.id) }
            if let merged {
                partition.segments.insert(merged, at: position)
                partition.markRowsHiddenByNewerSources(merged)
            }
        }
        removeFilesNoLongerNeeded(previous: previous, current: manifest)
        state.withLock { $0.segmentBytesWritten.compaction += record?.bytes ?? 0 }
        logger.debug("compacted", metadata: ["partition": "\(partition.key)", "inputs": "\(inputs.count)", "rows": "\(builder.rowCount)"])
    }
}
