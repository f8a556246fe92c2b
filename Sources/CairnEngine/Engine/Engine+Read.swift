import CairnVector
import Foundation

/// One search result: the object and its distance to the query (smaller is closer).
public struct SearchHit: Sendable, Hashable {
    public var object: StoredObject
    public var distance: Float
}

extension Engine {
    /// The newest version of an object, or nil when it does not exist or was deleted.
    public func get(_ id: UUID, collection: String, tenant: String? = nil) throws -> StoredObject? {
        try state.withLock { state in try state.partition(collection, tenant: tenant).object(id) }
    }

    /// The `limit` objects closest to `vector` that satisfy `filter`, closest first. Large
    /// segments are searched through their HNSW graph with a beam of `ef` (default: the
    /// collection's `efSearch`); memtables, small segments and very selective filters exactly.
    public func search(_ vector: [Float], collection: String, tenant: String? = nil, limit: Int,
                       filter: Filter? = nil, ef: Int? = nil) throws -> [SearchHit] {
        guard (1...10_000).contains(limit) else { throw CairnError.invalidArgument("limit must be between 1 and 10000, got \(limit)") }
        if let ef, !(1...4096).contains(ef) { throw CairnError.invalidArgument("ef must be between 1 and 4096, got \(ef)") }
        return try state.withLock { state in
            let partition = try state.partition(collection, tenant: tenant)
            let schema = partition.schema
            let query = try schema.checkedVector(vector, role: "query")
            let bound = try filter.map { try BoundFilter($0, schema: schema) }
            let tables = partition.memtablesNewestFirst
            var top = TopK(k: limit)
            let dimensions = schema.dimensions
            query.withUnsafeBufferPointer { queryBuffer in
                let queryBase = queryBuffer.baseAddress!
                for (source, table) in tables.enumerated() {
                    table.vectors.withUnsafeBufferPointer { vectors in
                        table.forEachLiveSlot { slot in
                            if let bound, !bound.matches(table.entries[slot].properties) { return }
                            let distance = schema.metric.distance(queryBase, vectors.baseAddress! + slot * dimensions, count: dimensions)
                            top.offer(distance: distance, row: source << 32 | slot)
                        }
                    }
                }
                for (index, loaded) in partition.segments.enumerated() {
                    guard let segment = loaded.segment else { continue }
                    let source = tables.count + index
                    let ef = max(ef ?? schema.hnsw.efSearch, limit)
                    if bound == nil, let graph = segment.graph,
                       SearchPlan.usesGraph(allowed: segment.rowCount - loaded.deadCount, rows: segment.rowCount) {
                        // No filter: skip building an allow-list; only dead rows are stepped over.
                        let dead = loaded.deadRows
                        let hits = graph.search(queryBase, k: limit, ef: ef, isAllowed: loaded.deadCount == 0 ? nil : { !dead[Int($0)] })
                        for hit in hits { top.offer(distance: hit.distance, row: source << 32 | hit.row) }
                        continue
                    }
                    var allowed = bound.map { segment.rows(matching: $0) } ?? Bitmap(count: segment.rowCount, filled: true)
                    allowed.subtract(loaded.deadRows)
                    let allowedCount = allowed.cardinality
                    if let graph = segment.graph, SearchPlan.usesGraph(allowed: allowedCount, rows: segment.rowCount) {
                        let mask = allowed
                        let hits = graph.search(queryBase, k: limit, ef: ef, isAllowed: { mask[Int($0)] })
                        for hit in hits { top.offer(distance: hit.distance, row: source << 32 | hit.row) }
                    } else {
                        allowed.forEachSet { row in
                            let distance = schema.metric.distance(queryBase, segment.vector(at: row), count: dimensions)
                            top.offer(distance: distance, row: source << 32 | row)
                        }
                    }
                }
            }
            return try top.sorted().map { hit in
                let source = hit.row >> 32, row = hit.row & 0xFFFF_FFFF
                let object = source < tables.count ? tables[source].object(at: row)
                    : try partition.segments[source - tables.count].segment!.object(at: row)
                return SearchHit(object: object, distance: hit.distance)
            }
        }
    }

    /// The number of live objects that satisfy `filter` (all when nil).
    public func count(collection: String, tenant: String? = nil, filter: Filter? = nil) throws -> Int {
        try state.withLock { state in
            let partition = try state.partition(collection, tenant: tenant)
            guard let filter else { return partition.liveCount }
            let bound = try BoundFilter(filter, schema: partition.schema)
            var count = 0
            for table in partition.memtablesNewestFirst {
                table.forEachLiveSlot { slot in if bound.matches(table.entries[slot].properties) { count += 1 } }
            }
            for loaded in partition.segments {
                guard let segment = loaded.segment else { continue }
                var allowed = segment.rows(matching: bound)
                allowed.subtract(loaded.deadRows)
                count += allowed.cardinality
            }
            return count
        }
    }

    /// Up to `limit` live objects in id order, starting after `cursor` (for paging through a partition).
    public func scroll(collection: String, tenant: String? = nil, after cursor: UUID? = nil, limit: Int) throws -> [StoredObject] {
        guard limit >= 1 else { throw CairnError.invalidArgument("limit must be at least 1, got \(limit)") }
        return try state.withLock { state in
            let partition = try state.partition(collection, tenant: tenant)
            var ids: [UUID] = []
            for table in partition.memtablesNewestFirst { table.forEachLiveSlot { ids.append(table.entries[$0].id) } }
            for loaded in partition.segments {
                guard let segment = loaded.segment else { continue }
                for row in 0..<segment.rowCount where !loaded.deadRows[row] { ids.append(segment.id(at: row)) }
            }
            let start = cursor.map(UUIDOrder.init)
            let page = ids.map { (UUIDOrder($0), $0) }.filter { start == nil || start! < $0.0 }
                .sorted { $0.0 < $1.0 }.prefix(limit)
            return try page.compactMap { _, id in try partition.object(id) }
        }
    }

}

/// Chooses between graph search and an exact scan for one segment.
enum SearchPlan {
    /// Below this fraction of a segment's rows allowed by a filter, an exact scan of the allowed
    /// rows beats walking the graph (which must step over the rows the filter rejects).
    static let exactScanFraction = 0.05

    static func usesGraph(allowed: Int, rows: Int) -> Bool {
        allowed >= SegmentFormat.graphThreshold && Double(allowed) >= Double(rows) * exactScanFraction
    }
}
