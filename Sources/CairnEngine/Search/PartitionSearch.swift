import CairnVector

/// One nearest-neighbour query over the sources of a partition (memtables newest first, then
/// segments), collecting the best hits of all of them. Each source is searched through its HNSW
/// graph when `SearchPlan` says so, exactly otherwise. Memtables are searched under the engine's
/// state lock; segments are immutable, so they are searched after it is released, through a
/// `SegmentView` captured under it.
struct PartitionSearch {
    let query: [Float]
    /// The collection's vector shape: all a search needs of its schema (a copy of the whole
    /// schema would be retained and released with every copy of the search).
    let dimensions: Int
    let metric: DistanceMetric
    let filter: BoundFilter?
    let limit: Int
    let ef: Int
    /// Whether a filtered walk stops by `ef` times the share of rows allowed (`ef` came from
    /// the caller), or only once it has `ef` allowed rows (the default).
    let sharesBeamWithFilter: Bool
    /// Scan every allowed row instead of walking graphs (letting the pages read go as it passes).
    let exact: Bool
    /// Above this many bytes of vectors, a scan of a filter's rows (not `exact`) skips the rows
    /// the segment's sketches rule out (`EngineOptions.screenedScanBytes`).
    let screenedScanBytes: Int
    /// Whether walks compare the segments' codes: the collection quantizes now (segments
    /// written before quantization was turned off keep theirs unused).
    let usesCodes: Bool
    /// Hits so far; a row is `source << 32 | slot or row`.
    private(set) var top: TopK

    init(query: [Float], schema: CollectionSchema, filter: BoundFilter?, limit: Int, ef: Int, sharesBeamWithFilter: Bool,
         exact: Bool = false, screenedScanBytes: Int = .max) {
        self.query = query
        self.exact = exact
        self.screenedScanBytes = screenedScanBytes
        dimensions = schema.dimensions
        metric = schema.metric
        usesCodes = schema.quantization != nil
        self.filter = filter
        self.limit = limit
        self.ef = ef
        self.sharesBeamWithFilter = sharesBeamWithFilter
        top = TopK(k: limit)
    }

    /// Where a walk under the filter stops (`sharesBeamWithFilter`): by its `ef`·`share`
    /// closest allowed rows, where `share` is the part of the source's rows the filter allows,
    /// so that `ef` prices a filtered walk like an unfiltered one (see `HNSWIndex.search`).
    /// nil: once it has `ef` allowed rows. Without a filter only deleted rows are rejected, and
    /// the walk steps over them until it has `ef` live rows.
    private func allowedBound(allowed: Int, rows: Int) -> Double? {
        guard filter != nil, sharesBeamWithFilter, rows > 0 else { return nil }
        return Double(ef) * Double(allowed) / Double(rows)
    }

    private mutating func offer(_ distance: Float, source: Int, row: Int) {
        top.offer(distance: distance, row: source << 32 | row)
    }

    /// Searches a memtable (under the state lock): its live graph for the linked slots, an
    /// exact scan for the rest.
    mutating func search(_ table: Memtable, source: Int) {
        let nodes = table.graph.nodeCount
        var allowed: Bitmap?
        var allowedCount = nodes - table.replacedCount
        if let filter {
            var matching = Bitmap(count: table.entries.count)
            table.forEachLiveSlot { slot in if table.matches(filter, at: slot) { matching[slot] = true } }
            allowedCount = matching.cardinality
            allowed = matching
        }
        let dimensions = self.dimensions, metric = self.metric
        query.withUnsafeBufferPointer { queryBuffer in
            let query = queryBuffer.baseAddress!
            var scanFrom = 0
            if !exact, SearchPlan.usesGraph(allowed: allowedCount, rows: nodes) {
                let found = table.graph.search(query, k: limit, ef: ef, isAllowed: { slot in allowed?[slot] ?? table.isLive(slot) },
                                               allowedBound: allowedBound(allowed: allowedCount, rows: nodes))
                for hit in found.hits { offer(hit.distance, source: source, row: hit.row) }
                scanFrom = found.indexedSlots
            }
            let vectors = table.vectors
            table.forEachLiveSlot(from: scanFrom) { slot in
                if let allowed, !allowed[slot] { return }
                offer(metric.distance(query, vectors.row(slot), count: dimensions, scale: vectors.scales[slot]), source: source, row: slot)
            }
        }
    }

    /// Searches a segment (no lock needed), stepping over the rows dead in `view`.
    mutating func search(_ view: SegmentView, source: Int) {
        let segment = view.segment, dimensions = self.dimensions, metric = self.metric
        let codes = usesCodes ? segment.codes : nil
        query.withUnsafeBufferPointer { queryBuffer in
            let query = queryBuffer.baseAddress!
            if !exact, filter == nil, let graph = segment.graph,
               SearchPlan.usesGraph(allowed: segment.rowCount - view.deadCount, rows: segment.rowCount) {
                // No filter: skip building an allow-list; only dead rows are stepped over.
                let dead = view.deadRows
                let hits = graph.search(query, k: limit, ef: ef, codes: codes, sketches: segment.sketches,
                                        isAllowed: view.deadCount == 0 ? nil : { !dead[Int($0)] })
                for hit in hits {
                    segment.prefetchID(at: hit.row)
                    offer(hit.distance, source: source, row: hit.row)
                }
                return
            }
            let match = filter.map(segment.matching)
            var allowed = match?.rows ?? Bitmap(count: segment.rowCount, filled: true)
            var allowedCount = match?.count ?? segment.rowCount
            if view.deadCount > 0 {
                allowed.subtract(view.deadRows)
                allowedCount = allowed.cardinality
            }
            if !exact, let graph = segment.graph, SearchPlan.usesGraph(allowed: allowedCount, rows: segment.rowCount) {
                let mask = allowed
                for hit in graph.search(query, k: limit, ef: ef, codes: codes, sketches: segment.sketches, isAllowed: { mask[Int($0)] },
                                        allowedBound: allowedBound(allowed: allowedCount, rows: segment.rowCount)) {
                    offer(hit.distance, source: source, row: hit.row)
                }
            } else if !exact, allowedCount * dimensions * MemoryLayout<Float>.stride > screenedScanBytes,
                      let sketches = segment.sketches, SignSketches.supports(metric) {
                // Vectors that outgrow a core's cache between queries: a row is read only when
                // its sketch does not already place it beyond the `limit`th hit so far.
                sketches.withBounds(for: query, metric: metric) { bounds in
                    allowed.forEachSet { row in
                        guard bounds.lowerBound(UInt32(row)) < top.threshold else { return }
                        offer(metric.distance(query, segment.vector(at: row), count: dimensions, scale: segment.scale(at: row)),
                              source: source, row: row)
                    }
                }
            } else {
                allowed.forEachSet { row in
                    offer(metric.distance(query, segment.vector(at: row), count: dimensions, scale: segment.scale(at: row)),
                          source: source, row: row)
                    // An exact query over everything (a golden query) reads each page once:
                    // let them go as it passes, so a large segment is never held whole.
                    if exact, row & 0xFFFF == 0xFFFF { segment.evictResidentPages() }
                }
            }
        }
    }
}

/// A segment and its dead rows as of one moment: what a search outside the state lock reads.
/// (`deadRows` is a copy-on-write value, so later writes do not change it.)
struct SegmentView: @unchecked Sendable {
    let segment: Segment
    let deadRows: Bitmap
    let deadCount: Int

    init?(_ loaded: LoadedSegment) {
        guard let segment = loaded.segment else { return nil }
        self.segment = segment
        deadRows = loaded.deadRows
        deadCount = loaded.deadCount
    }
}

/// Chooses between graph search and an exact scan for one source.
enum SearchPlan {
    /// Below this fraction of a source's rows allowed by a filter, an exact scan of the allowed
    /// rows beats walking the graph (which must step over the rows the filter rejects).
    static let exactScanFraction = 0.05

    static func usesGraph(allowed: Int, rows: Int) -> Bool {
        allowed >= SegmentFormat.graphThreshold && Double(allowed) >= Double(rows) * exactScanFraction
    }
}
