import Foundation

/// A search of one partition begun under the engine's state lock and finished after it.
/// Memtables change with every write: they are searched under the lock, and the objects of
/// their hits kept. Segments are immutable: they are captured with their dead rows and
/// searched after the lock is released, so searches run concurrently with each other and with
/// writes.
struct CapturedSearch {
    private var search: PartitionSearch
    private let memtableObjects: [Int: StoredObject]
    private let segments: [(source: Int, view: SegmentView)]
    private let fields: ResultFields

    fileprivate init(search: PartitionSearch, memtableObjects: [Int: StoredObject], segments: [(source: Int, view: SegmentView)],
                     fields: ResultFields) {
        self.search = search
        self.memtableObjects = memtableObjects
        self.segments = segments
        self.fields = fields
    }

    /// Searches the captured segments (no lock needed) and returns the hits, closest first.
    consuming func finish() throws -> [SearchHit] {
        for (source, view) in segments { search.search(view, source: source) }
        let firstSegmentSource = segments.first?.source ?? Int.max
        return try search.top.sorted().map { hit in
            let object = hit.row >> 32 < firstSegmentSource ? memtableObjects[hit.row]!
                : try segments[(hit.row >> 32) - firstSegmentSource].view.segment.object(at: hit.row & 0xFFFF_FFFF, fields: fields)
            return SearchHit(object: object, distance: hit.distance)
        }
    }
}

extension PartitionView {
    /// Begins a search for the `limit` objects closest to `vector` that satisfy `filter`; call
    /// under the state lock, then `finish()` after it. `exact` scans every row instead of
    /// walking graphs (the answer depends on the data only, not on how the graphs were built).
    /// Hits carry the parts of their objects that `fields` names. `screenedScanBytes`: see
    /// `EngineOptions.screenedScanBytes` (never, by default).
    ///
    /// With an `ef` from the caller, a filtered walk stops by about `ef` times the share of rows
    /// the filter allows: it costs about what an unfiltered one of `ef` does. Without one, it
    /// walks until it has `efSearch` allowed rows: the recall of an unfiltered search or better,
    /// at a cost that grows as the filter narrows (below 5% an exact scan takes over).
    func beginSearch(_ vector: [Float], limit: Int, filter: Filter?, ef: Int?, exact: Bool = false,
                     fields: ResultFields = .all, screenedScanBytes: Int = .max) throws -> CapturedSearch {
        let schema = schema
        var search = PartitionSearch(query: try schema.checkedVector(vector, isQuery: true), schema: schema,
                                     filter: try filter.map { try BoundFilter($0, schema: schema) },
                                     limit: limit, ef: max(ef ?? schema.hnsw.efSearch, limit),
                                     sharesBeamWithFilter: ef != nil, exact: exact,
                                     screenedScanBytes: screenedScanBytes)
        let tables = memtablesNewestFirst
        for (source, table) in tables.enumerated() { search.search(table, source: source) }
        var objects: [Int: StoredObject] = [:]
        for hit in search.top.sorted() { objects[hit.row] = tables[hit.row >> 32].object(at: hit.row & 0xFFFF_FFFF, fields: fields) }
        var views: [(source: Int, view: SegmentView)] = []
        views.reserveCapacity(segments.count)
        for loaded in segments {
            if let view = SegmentView(loaded) { views.append((tables.count + views.count, view)) }
        }
        return CapturedSearch(search: search, memtableObjects: objects, segments: views, fields: fields)
    }
}
