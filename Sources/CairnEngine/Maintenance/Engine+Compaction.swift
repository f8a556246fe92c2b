import Foundation

extension Engine {
    /// Merges what the size-tiered policy picks in every partition, until it picks nothing
    /// (a merge can complete a run of the next tier).
    func compactPartitions() throws {
        let policy = CompactionPolicy(minimumRun: options.compactionSegmentCount, tierBase: options.compactionTierBytes)
        for _ in 0..<16 {
            let work = state.withLock { state in
                state.partitions.values.filter(\.isLoaded).compactMap { partition -> (PartitionData, [[LoadedSegment]])? in
                    let segments = state.view(of: partition).segments
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
        let (isOldestRun, deadRows) = state.withLock { state in
            (state.view(of: partition).segments.first.map { $0 === inputs.first } ?? false, inputs.map(\.deadRows))
        }
        let segments = inputs.compactMap(\.segment)
        guard segments.count == inputs.count else { return } // the tenant was deactivated meanwhile
        let record = try buildSegment(of: partition) { builder in
            var seen = Set<UUID>()
            var tombstones = Set<UUID>()
            for (position, segment) in segments.enumerated().reversed() {
                for row in 0..<segment.rowCount {
                    let id = segment.id(at: row)
                    guard seen.insert(id).inserted, !deadRows[position][row] else { continue }
                    let (createdAt, updatedAt) = segment.timestamps(at: row)
                    try builder.addRow(id: id, createdAt: createdAt, updatedAt: updatedAt, properties: try segment.properties(at: row),
                                       vector: UnsafeBufferPointer(start: segment.vector(at: row), count: segment.dimensions))
                }
                for index in 0..<segment.tombstoneCount {
                    let id = segment.tombstone(at: index)
                    seen.insert(id)
                    if !isOldestRun { tombstones.insert(id) }
                }
            }
            for id in tombstones.sorted(by: { UUIDOrder($0) < UUIDOrder($1) }) { builder.addTombstone(id) }
        }
        try logAndApply(.merge(inputs: Set(inputs.map(\.record.id)), output: record))
        state.withLock { $0.segmentBytesWritten.compaction += record?.bytes ?? 0 }
        logger.debug("compacted", metadata: ["partition": "\(partition.key)", "inputs": "\(inputs.count)", "rows": "\(record?.rows ?? 0)"])
    }
}
