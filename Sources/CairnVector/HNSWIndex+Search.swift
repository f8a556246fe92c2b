import CCairnSupport

extension HNSWIndex {
    /// The `k` nearest nodes to `query` (closest first) among those `isAllowed` accepts, with a
    /// beam of `ef` (at least `k`). Nodes that are not allowed are still walked through, so a
    /// filter does not cut the graph apart. Safe to call from several threads at once.
    public func search(_ query: UnsafePointer<Float>, k: Int, ef: Int? = nil,
                       isAllowed: ((UInt32) -> Bool)? = nil) -> [ScoredRow] {
        guard maxLevel >= 0, k > 0 else { return [] }
        var current = entryPoint
        var currentDistance = distance(query, current)
        for layer in stride(from: maxLevel, to: 0, by: -1) {
            (current, currentDistance) = greedyClosest(query, from: current, distance: currentDistance, level: layer)
        }
        return scratchPool.withScratch(nodes: count) { scratch in
            beamSearch(query, entry: current, entryDistance: currentDistance, ef: max(ef ?? parameters.efSearch, k),
                       level: 0, isAllowed: isAllowed, scratch: scratch)
            var results = scratch.results
            defer { scratch.results = results }
            while results.count > k { results.pop() }
            var hits = [ScoredRow](repeating: ScoredRow(distance: 0, row: 0), count: results.count)
            var index = results.count - 1
            while !results.isEmpty {
                let hit = results.pop()
                hits[index] = ScoredRow(distance: hit.distance, row: Int(hit.node))
                index -= 1
            }
            return hits
        }
    }

    /// Beam search on one layer from `entry`. Leaves the `ef` closest allowed nodes in
    /// `scratch.results` (a max-heap), whose visited set must be fresh.
    @usableFromInline
    func beamSearch(_ query: UnsafePointer<Float>, entry: UInt32, entryDistance: Float, ef: Int, level: Int,
                    isAllowed: ((UInt32) -> Bool)?, scratch: SearchScratch) {
        let generation = scratch.generation
        let visitedBase = scratch.visited.base
        let vectorBase = UnsafePointer(vectors.base)
        let scaleBase: UnsafePointer<Float>? = isScaled ? UnsafePointer(scales.base) : nil
        let dimensions = self.dimensions
        let metric = self.metric
        var candidates = scratch.candidates
        var results = scratch.results
        candidates.count = 0
        results.count = 0
        defer {
            scratch.candidates = candidates
            scratch.results = results
        }
        visitedBase[Int(entry)] = generation
        candidates.push(entryDistance, entry)
        if isAllowed?(entry) ?? true { results.push(entryDistance, entry) }
        // Up to `prefetchLines` lines of each vector (measured on 128-d: 1–2 lines 15–20% slower
        // than 4–8; the hardware prefetcher does not cover the rest in time).
        let prefetchBytes = min(dimensions * MemoryLayout<Float>.stride, HNSWIndex.prefetchLines * 64)
        let ahead = HNSWIndex.prefetchAhead
        @inline(__always) func prefetchVector(_ node: UInt32) {
            let start = UnsafeRawPointer(vectorBase + Int(node) * dimensions)
            for offset in Swift.stride(from: 0, to: prefetchBytes, by: 64) { cairn_prefetch(start + offset) }
            if let scaleBase { cairn_prefetch(scaleBase + Int(node)) }
        }
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: parameters.maxNeighborsLayer0) { fresh in
            while !candidates.isEmpty {
                let closest = candidates.pop()
                if results.count >= ef && closest.distance > results.top.distance { break }
                if !candidates.isEmpty { cairn_prefetch(links(candidates.top.node, level: level)) }
                // First pass: keep the unvisited neighbours and start loading the first few
                // vectors; the second pass keeps loading `ahead` neighbours in front of the one
                // it compares, so cache misses overlap instead of coming one after another.
                let list = UnsafePointer(links(closest.node, level: level))
                var freshCount = 0
                for index in 0..<Int(list[0]) {
                    let neighbor = list[1 + index]
                    guard visitedBase[Int(neighbor)] != generation else { continue }
                    visitedBase[Int(neighbor)] = generation
                    if freshCount < ahead { prefetchVector(neighbor) }
                    fresh[freshCount] = neighbor
                    freshCount += 1
                }
                for index in 0..<freshCount {
                    if index + ahead < freshCount { prefetchVector(fresh[index + ahead]) }
                    let neighbor = fresh[index]
                    let neighborDistance = metric.distance(query, vectorBase + Int(neighbor) * dimensions, count: dimensions,
                                                           scale: scaleBase?[Int(neighbor)] ?? 1)
                    if results.count < ef || neighborDistance < results.top.distance {
                        candidates.push(neighborDistance, neighbor)
                        if isAllowed?(neighbor) ?? true {
                            results.push(neighborDistance, neighbor)
                            if results.count > ef { results.pop() }
                        }
                    }
                }
            }
        }
    }
}
