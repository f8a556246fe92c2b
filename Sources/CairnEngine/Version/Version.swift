import Foundation

/// Which incarnation of a partition a segment belongs to: a collection dropped and created
/// again under the same name is another partition.
struct PartitionID: Hashable, Sendable {
    var key: PartitionKey
    var incarnation: PartitionIncarnation
}

/// The live segment files of the database as one immutable value: the manifest that describes
/// them and, per partition, the segments oldest first (mapped while the partition is loaded).
/// The engine holds the current one in its state; a new one replaces it whole (after a flush,
/// a compaction, or when a tenant is activated, deactivated or removed), and a reader that
/// captured the old one keeps its files mapped until it is done (LevelDB's `Version`).
final class Version: @unchecked Sendable {
    /// The durable description of this version (`CURRENT` names it).
    let manifest: Manifest
    private let segmentsByPartition: [PartitionID: [LoadedSegment]]

    /// The version `manifest` describes. A segment already mapped in `previous` is reused with
    /// its dead rows; a segment of a loaded partition is otherwise taken from `mapped` or mapped
    /// now; segments of unloaded or removed partitions are kept unmapped.
    init(manifest: Manifest, reusing previous: Version?, partitions: [PartitionKey: PartitionData],
         mapped: [String: LoadedSegment] = [:], loader: SegmentLoader) throws {
        var reusable: [String: LoadedSegment] = [:]
        if let previous {
            for list in previous.segmentsByPartition.values { for loaded in list { reusable[loaded.record.id] = loaded } }
        }
        var lists: [PartitionID: [LoadedSegment]] = [:]
        for record in manifest.segments {
            let id = PartitionID(key: record.partition, incarnation: record.incarnation)
            let owner = partitions[record.partition].flatMap { $0.incarnation == record.incarnation ? $0 : nil }
            let loaded: LoadedSegment
            if let owner, owner.isLoaded {
                if let kept = reusable[record.id], kept.segment != nil {
                    loaded = kept
                } else {
                    loaded = try mapped[record.id] ?? loader.load(record, schema: owner.schema)
                }
            } else {
                loaded = reusable[record.id].flatMap { $0.segment == nil ? $0 : nil } ?? LoadedSegment(record: record, segment: nil)
            }
            lists[id, default: []].append(loaded)
        }
        self.manifest = manifest
        segmentsByPartition = lists
    }

    /// The segments of `partition`, oldest first.
    func segments(of partition: PartitionData) -> [LoadedSegment] {
        segmentsByPartition[PartitionID(key: partition.key, incarnation: partition.incarnation)] ?? []
    }
}
