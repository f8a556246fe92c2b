import Foundation

/// A partition's live objects as of one moment, captured under the state lock and read after
/// it while writers continue: the memtables' live objects (copied, sorted by id) and the
/// segments with their dead rows as they were. `forEach` yields them in id order.
public struct PartitionExport: @unchecked Sendable {
    /// Live objects at the moment of capture.
    public let count: Int
    private let memtableObjects: [StoredObject]
    private let segments: [SegmentView]
    private let filter: BoundFilter?

    fileprivate init(_ partition: PartitionView, filter: Filter?) throws {
        let bound = try filter.map { try BoundFilter($0, schema: partition.schema) }
        var objects: [StoredObject] = []
        for table in partition.memtablesNewestFirst {
            table.forEachLiveSlot { slot in
                if bound.map({ table.matches($0, at: slot) }) ?? true { objects.append(table.object(at: slot)) }
            }
        }
        memtableObjects = objects.sorted { UUIDOrder($0.id) < UUIDOrder($1.id) }
        segments = partition.segments.compactMap(SegmentView.init)
        self.filter = bound
        count = partition.liveCount
    }

    /// Calls `body` with every captured live object that the filter allows, in id order. A
    /// segment's pages are let go as the reading passes them, so memory stays bounded.
    public func forEach(_ body: (StoredObject) throws -> Void) throws {
        struct Head { var position: Int; let allowed: Bitmap? }
        var heads = segments.map { view in Head(position: 0, allowed: filter.map(view.segment.rows(matching:))) }
        var nextMemtable = 0
        var sinceEviction = 0
        defer { for view in segments { view.segment.evictResidentPages() } }
        /// The next row of segment `index` to export (skipping dead and filtered rows), if any.
        func headRow(_ index: Int) -> Int? {
            let view = segments[index]
            while heads[index].position < view.segment.rowCount {
                let row = view.segment.row(atIDOrderPosition: heads[index].position)
                if !view.deadRows[row] && (heads[index].allowed?[row] ?? true) { return row }
                heads[index].position += 1
            }
            return nil
        }
        while true {
            var best: (index: Int, row: Int, key: UUIDOrder)?
            for index in heads.indices {
                guard let row = headRow(index) else { continue }
                let key = UUIDOrder(segments[index].segment.id(at: row))
                if best.map({ key < $0.key }) ?? true { best = (index, row, key) }
            }
            if nextMemtable < memtableObjects.count,
               best.map({ UUIDOrder(memtableObjects[nextMemtable].id) < $0.key }) ?? true {
                try body(memtableObjects[nextMemtable])
                nextMemtable += 1
                continue
            }
            guard let (index, row, _) = best else { return }
            try body(try segments[index].segment.object(at: row))
            heads[index].position += 1
            sinceEviction += 1
            if sinceEviction == 4096 {
                for view in segments { view.segment.evictResidentPages() }
                sinceEviction = 0
            }
        }
    }
}

extension Engine {
    /// A consistent export of a partition: its live objects (those `filter` allows) as of this
    /// moment, read in id order after the call while writers continue.
    package func export(collection: String, tenant: String? = nil, filter: Filter? = nil) throws -> PartitionExport {
        try state.withLock { state in try PartitionExport(try state.partition(collection, tenant: tenant), filter: filter) }
    }
}
