import CCairnSupport

extension HNSWIndex {
    /// The `k` nearest nodes to `query` (closest first) among those `isAllowed` accepts, with a
    /// beam of `ef` (at least `k`). Nodes that are not allowed are still walked through, so a
    /// filter does not cut the graph apart. Safe to call from several threads at once.
    ///
    /// With `codes` (this graph's vectors quantized), the walk compares codes, and the `ef`
    /// nodes it ends with are re-ranked by their full vectors: the distances returned are exact.
    /// Without codes but with `sketches`, the walk compares full vectors, but reads one only
    /// when the node's sketch does not rule it out (`SignSketches`).
    ///
    /// The walk stops when no node is left to expand that is nearer than the `ef`th closest
    /// allowed node it has found; with `allowedBound` (below `ef`), nearer than the
    /// `allowedBound`th, once it has `k`. A filter that allows a share `s` of the nodes puts
    /// about `ef`·`s` allowed nodes in the ball an unfiltered walk of `ef` explores: bounding by
    /// that many prices a filtered walk like an unfiltered one of the same `ef`. A fractional
    /// bound such as 1.4 stops 40% of the way from the closest allowed node's distance to the
    /// second's, so that recall and cost follow `ef` smoothly even where `ef`·`s` is small.
    ///
    /// `alongsideLinking`: other threads may be linking nodes (`link(_:threads:alongsideSearches:)`),
    /// so neighbour lists and the entry point are read under their locks. Nodes being linked can
    /// turn up in the results: the caller decides what to keep.
    public func search(_ query: UnsafePointer<Float>, k: Int, ef: Int? = nil, codes: QuantizedVectors? = nil,
                       sketches: SignSketches? = nil, isAllowed: ((UInt32) -> Bool)? = nil, allowedBound: Double? = nil, alongsideLinking: Bool = false) -> [ScoredRow] {
        let locks = alongsideLinking ? linkLocks?.handle : nil
        locks?.lockEntry()
        let start = (node: entryPoint, level: maxLevel)
        locks?.unlockEntry()
        guard start.level >= 0, k > 0 else { return [] }
        let beam = max(ef ?? parameters.efSearch, k)
        let exact = ExactDistance(query, in: self)
        let bound = allowedBound.flatMap { isAllowed != nil && $0 < Double(beam) ? AllowedBound($0, minimum: k) : nil }
        guard let codes, codes.count == count, codes.dimensions == dimensions else {
            guard let sketches, sketches.count == count, sketches.dimensions == dimensions, SignSketches.supports(metric) else {
                return walk(exact, from: start, k: k, ef: beam, isAllowed: isAllowed, allowedBound: bound, locks: locks)
            }
            return sketches.withBounds(for: query, metric: metric) { screen in
                walk(exact, from: start, k: k, ef: beam, isAllowed: isAllowed, allowedBound: bound, screen: screen, locks: locks)
            }
        }
        return withUnsafeTemporaryAllocation(of: Int16.self, capacity: dimensions) { weights in
            let quantized = QuantizedDistance(query, codes: codes, in: self, weights: weights.baseAddress!)
            return walk(quantized, from: start, k: k, ef: beam, isAllowed: isAllowed, allowedBound: bound, reranking: exact, locks: locks)
        }
    }

    /// Descends the upper layers greedily from `start` (the entry point and its level), walks
    /// layer 0 with a beam of `ef` (screened by `screen` when given), and returns the `k` closest
    /// it found, re-measured by `reranking` when given.
    @inlinable
    func walk<Distance: NodeDistance>(_ distance: Distance, from start: (node: UInt32, level: Int), k: Int, ef: Int,
                                      isAllowed: ((UInt32) -> Bool)?, allowedBound: AllowedBound?, reranking: ExactDistance? = nil,
                                      screen: SketchBound? = nil, locks: NodeLocks?) -> [ScoredRow] {
        var current = start.node
        var currentDistance = distance.distance(to: current)
        for layer in stride(from: start.level, to: 0, by: -1) {
            (current, currentDistance) = greedyClosest(distance, from: current, distance: currentDistance, level: layer, locks: locks)
        }
        return scratchPool.withScratch(nodes: count) { scratch in
            beamSearch(distance, entry: current, entryDistance: currentDistance, ef: ef, level: 0,
                       isAllowed: isAllowed, allowedBound: allowedBound, screen: screen, scratch: scratch, locks: locks)
            if let reranking {
                return rerank(scratch, k: k, approximate: distance, exact: reranking)
            }
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

    /// The `k` closest of the nodes a walk ended with (`scratch.results`), by `exact` distance.
    /// Closest first by `approximate` distance, each node is measured exactly unless its
    /// approximate distance proves it cannot beat the k-th exact one so far
    /// (`NodeDistance.lowestExact`): the same hits as measuring every node, for fewer reads of
    /// full vectors, which the walk did not touch. The next few to measure are loaded ahead.
    @inlinable
    func rerank<Distance: NodeDistance>(_ scratch: SearchScratch, k: Int, approximate: Distance, exact: ExactDistance) -> [ScoredRow] {
        let nodes = scratch.takeResultsClosestFirst()
        var top = TopK(k: k)
        var loaded = 0
        func mayEnter(_ candidate: Candidate) -> Bool {
            approximate.lowestExact(candidate.distance, node: candidate.node) <= top.threshold
        }
        for index in nodes.indices {
            // The threshold only falls, so a node that cannot enter now never will.
            guard mayEnter(nodes[index]) else { continue }
            while loaded < nodes.count && loaded <= index + HNSWIndex.prefetchAhead {
                if mayEnter(nodes[loaded]) { exact.prefetchWhole(nodes[loaded].node) }
                loaded += 1
            }
            top.offer(distance: exact.distance(to: nodes[index].node), row: Int(nodes[index].node))
        }
        return top.sorted()
    }

    /// Follows the closest neighbour on one upper layer (lists of at most `M`) until no neighbour
    /// is closer. Vectors are loaded `prefetchAhead` neighbours in front of the one compared, as
    /// on layer 0 (upper-layer nodes are few, but their vectors still miss the caches: 384-d
    /// walks measured 5-10% faster with this than without).
    @inlinable
    func greedyClosest<Distance: NodeDistance>(_ distance: Distance, from start: UInt32, distance startDistance: Float,
                                               level: Int, locks: NodeLocks? = nil) -> (UInt32, Float) {
        var current = start, currentDistance = startDistance
        var changed = true
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 1 + parameters.M) { copy in
            while changed {
                changed = false
                let list = neighborList(current, level: level, locks: locks, copy: copy.baseAddress!)
                let total = Int(list[0]), ahead = HNSWIndex.prefetchAhead
                for index in 0..<min(total, ahead) { distance.prefetch(list[1 + index]) }
                for index in 0..<total {
                    if index + ahead < total { distance.prefetch(list[1 + index + ahead]) }
                    let candidate = list[1 + index]
                    let candidateDistance = distance.distance(to: candidate)
                    if candidateDistance < currentDistance {
                        currentDistance = candidateDistance
                        current = candidate
                        changed = true
                    }
                }
            }
        }
        return (current, currentDistance)
    }

    /// The neighbour list of `node` on `level` (a count, then the ids). While other threads link
    /// nodes (`locks`), it is copied to `copy` under the node's lock; otherwise read in place.
    @inlinable @inline(__always)
    func neighborList(_ node: UInt32, level: Int, locks: NodeLocks?, copy: UnsafeMutablePointer<UInt32>) -> UnsafePointer<UInt32> {
        guard let locks else { return UnsafePointer(links(node, level: level)) }
        locks.lock(node)
        let list = links(node, level: level)
        copy.update(from: list, count: 1 + Int(list[0]))
        locks.unlock(node)
        return UnsafePointer(copy)
    }

    /// Beam search on one layer from `entry`. Leaves the `ef` closest allowed nodes it found in
    /// `scratch.results` (a max-heap), whose visited set must be fresh.
    ///
    /// The walk goes on while its closest unexpanded node is nearer than the `ef`th closest
    /// allowed node it has found, so a filter makes it walk until it has `ef` allowed ones. With
    /// `allowedBound` it stops by `AllowedBound.threshold` of the closest allowed nodes (kept in
    /// `scratch.bound`) instead, once it has `minimum` of them.
    ///
    /// With `screen`, a neighbour whose lower bound shows it could enter neither queue is not
    /// measured. Where bounds rule out few nodes (data whose clusters are tight around points far
    /// from the mean), screening costs more than it saves, so a walk stops screening once more
    /// than three quarters of its first `screenTrial` bounded neighbours were kept.
    @inlinable
    func beamSearch<Distance: NodeDistance>(_ distance: Distance, entry: UInt32, entryDistance: Float, ef: Int, level: Int,
                                            isAllowed: ((UInt32) -> Bool)?, allowedBound: AllowedBound? = nil, screen: SketchBound? = nil,
                                            scratch: SearchScratch, locks: NodeLocks? = nil) {
        let generation = scratch.generation
        let visitedBase = scratch.visited.base
        var candidates = scratch.candidates
        var results = scratch.results
        var bound = scratch.bound
        candidates.count = 0
        results.count = 0
        bound.count = 0
        defer {
            scratch.candidates = candidates
            scratch.results = results
            scratch.bound = bound
        }
        let bounded = allowedBound != nil && isAllowed != nil
        let boundCount = allowedBound?.count ?? ef, minimumAllowed = allowedBound?.minimum ?? 0
        let fraction = allowedBound?.fraction ?? 1
        // Where a bounded walk stops: infinity until `bound` holds `boundCount` nodes.
        var threshold = Float.infinity
        visitedBase[Int(entry)] = generation
        candidates.push(entryDistance, entry)
        if isAllowed?(entry) ?? true {
            results.push(entryDistance, entry)
            if bounded {
                bound.push(entryDistance, entry)
                threshold = AllowedBound.threshold(of: bound, count: boundCount, fraction: fraction)
            }
        }
        let ahead = HNSWIndex.prefetchAhead
        // A whole neighbour list: at 33 slots it spans three cache lines.
        let listBytes = (level == 0 ? layer0Stride : upperStride) * MemoryLayout<UInt32>.stride
        var screening = screen != nil, screened = 0, kept = 0
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: parameters.maxNeighborsLayer0) { buffer in
            let fresh = buffer.baseAddress!
            while !candidates.isEmpty {
                let closest = candidates.pop()
                if bounded {
                    if closest.distance > threshold && results.count >= minimumAllowed { break }
                } else if results.count >= ef && closest.distance > results.top.distance {
                    break
                }
                if !candidates.isEmpty { prefetchRange(links(candidates.top.node, level: level), bytes: listBytes) }
                // First pass (under the node's lock while other threads link): keep the
                // unvisited neighbours and start loading the first few vectors; the second pass
                // keeps loading `ahead` neighbours in front of the one it compares, so cache
                // misses overlap instead of coming one after another.
                locks?.lock(closest.node)
                let list = links(closest.node, level: level)
                var freshCount = 0
                // Screening applies once a neighbour must beat a known distance to be of use: it
                // could otherwise enter the results, or (bounded) the candidates, whatever its distance.
                let screenNow = screening && HNSWIndex.mayScreen(bounded: bounded, found: results.count, ef: ef,
                                                                 minimumAllowed: minimumAllowed, threshold: threshold)
                for index in 0..<Int(list[0]) {
                    let neighbor = list[1 + index]
                    guard visitedBase[Int(neighbor)] != generation else { continue }
                    visitedBase[Int(neighbor)] = generation
                    if screenNow, let screen { screen.prefetch(neighbor) } else if freshCount < ahead { distance.prefetch(neighbor) }
                    fresh[freshCount] = neighbor
                    freshCount += 1
                }
                locks?.unlock(closest.node)
                if screenNow, let screen {
                    // Bounded, a node that is not allowed is of use only as a candidate (below
                    // `threshold`); an allowed one also while the results are not full.
                    let limit = results.count < ef ? .infinity : bounded ? max(threshold, results.top.distance) : results.top.distance
                    var survivors = 0, bounds = 0
                    for index in 0..<freshCount {
                        let neighbor = fresh[index]
                        let neighborLimit = bounded && !isAllowed!(neighbor) ? threshold : limit
                        if neighborLimit < .infinity {
                            bounds += 1
                            guard screen.lowerBound(neighbor) < neighborLimit else { continue }
                        }
                        if survivors < ahead { distance.prefetch(neighbor) }
                        fresh[survivors] = neighbor
                        survivors += 1
                    }
                    screened += bounds
                    kept += survivors - (freshCount - bounds)
                    if screened >= HNSWIndex.screenTrial && kept * 4 > screened * 3 { screening = false }
                    freshCount = survivors
                }
                for index in 0..<freshCount {
                    if index + ahead < freshCount { distance.prefetch(fresh[index + ahead]) }
                    let neighbor = fresh[index]
                    let neighborDistance = distance.distance(to: neighbor)
                    if bounded {
                        if neighborDistance < threshold || results.count < minimumAllowed { candidates.push(neighborDistance, neighbor) }
                        guard results.count < ef || neighborDistance < results.top.distance, isAllowed!(neighbor) else { continue }
                        if bound.count < boundCount || neighborDistance < bound.top.distance {
                            bound.push(neighborDistance, neighbor)
                            if bound.count > boundCount { bound.pop() }
                            threshold = AllowedBound.threshold(of: bound, count: boundCount, fraction: fraction)
                        }
                        results.push(neighborDistance, neighbor)
                        if results.count > ef { results.pop() }
                    } else if results.count < ef || neighborDistance < results.top.distance {
                        candidates.push(neighborDistance, neighbor)
                        if isAllowed?(neighbor) ?? true {
                            results.push(neighborDistance, neighbor)
                            if results.count > ef { results.pop() }
                        }
                    }
                }
                // The next node to expand is known now: its unvisited neighbours' sketches start
                // loading, so its screening finds them in cache (+4% on 384-d at ef 24). Not while other
                // threads link: the list may change under the read.
                if screening, let screen, locks == nil, !candidates.isEmpty,
                   HNSWIndex.mayScreen(bounded: bounded, found: results.count, ef: ef, minimumAllowed: minimumAllowed, threshold: threshold) {
                    let next = links(candidates.top.node, level: level)
                    for index in 0..<Int(next[0]) where visitedBase[Int(next[1 + index])] != generation { screen.prefetch(next[1 + index]) }
                }
            }
        }
    }

    /// Whether a walk that has `found` allowed nodes may screen neighbours: once every one must
    /// beat a known distance to be of use (unbounded: the results are full; bounded: the walk has
    /// its minimum and a stopping threshold).
    @inlinable @inline(__always)
    static func mayScreen(bounded: Bool, found: Int, ef: Int, minimumAllowed: Int, threshold: Float) -> Bool {
        bounded ? found >= minimumAllowed && threshold < .infinity : found >= ef
    }
}
