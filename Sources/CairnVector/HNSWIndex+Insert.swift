import Foundation

extension HNSWIndex {
    /// Adds a vector of `dimensions` floats, kept as given (for cosine its scale is computed
    /// here; it must have a direction), and links it into the graph. Returns its node number.
    @discardableResult
    public func insert(_ vector: UnsafePointer<Float>) -> Int {
        let node = appendNode(vector)
        link(node, locks: nil)
        return Int(node)
    }

    /// Stores a vector as a new node with a random level and empty neighbour lists, not yet
    /// reachable from the graph.
    func appendNode(_ vector: UnsafePointer<Float>) -> UInt32 {
        vectors.append(contentsOf: UnsafeBufferPointer(start: vector, count: dimensions))
        return appendLinks()
    }

    /// Makes the borrowed vectors up to node `total` nodes, not yet linked (see
    /// `init(dimensions:metric:parameters:borrowing:rows:seed:)`).
    public func addNodes(upTo total: Int) {
        precondition(vectors.isBorrowed, "only a graph over borrowed vectors adds nodes without them")
        while count < total { _ = appendLinks() }
    }

    /// Makes the next stored vector a node: a random level, its scale, empty neighbour lists.
    func appendLinks() -> UInt32 {
        let node = UInt32(count)
        let level = min(Int(-log(max(nextRandomValue(), 1e-12)) / log(Double(parameters.M))), 32)
        if isScaled { scales.append(repeating: metric.scale(of: UnsafeBufferPointer(start: vector(Int(node)), count: dimensions)), count: 1) }
        layer0.append(repeating: 0, count: layer0Stride)
        levels.append(repeating: UInt8(level), count: 1)
        upperStart.append(repeating: UInt32(upperLinks.count), count: 1)
        if level > 0 { upperLinks.append(repeating: 0, count: level * upperStride) }
        return node
    }

    /// Links a stored node into the graph: walks down from the entry point, chooses its
    /// neighbours on each of its layers and adds it to theirs. With `locks`, other threads link
    /// other nodes at the same time: every neighbour list is read and written under its node's
    /// lock, and the entry point under the entry lock (held throughout when this node becomes
    /// the new top).
    func link(_ node: UInt32, locks: NodeLocks?) {
        let level = Int(levels.base[Int(node)])
        locks?.lockEntry()
        let top = maxLevel, entry = entryPoint
        let raisesTop = level > top
        if !raisesTop { locks?.unlockEntry() }
        defer {
            if raisesTop {
                entryPoint = node
                maxLevel = level
                locks?.unlockEntry()
            }
        }
        guard top >= 0 else { return }
        // The walk compares a unit-length query for cosine: a copy of the vector times its
        // scale. Other metrics walk with the vector as given.
        let vector = self.vector(Int(node))
        let normalized: UnsafeMutablePointer<Float>? = isScaled ? .allocate(capacity: dimensions) : nil
        defer { normalized?.deallocate() }
        if let normalized {
            let queryScale = scale(Int(node))
            for index in 0..<dimensions { normalized[index] = vector[index] * queryScale }
        }
        let query = ExactDistance(UnsafePointer(normalized) ?? vector, in: self)
        var current = entry
        var currentDistance = query.distance(to: current)
        if level < top {
            for layer in stride(from: top, to: level, by: -1) {
                (current, currentDistance) = greedyClosest(query, from: current, distance: currentDistance, level: layer, locks: locks)
            }
        }
        scratchPool.withScratch(nodes: count) { scratch in
            for layer in stride(from: min(level, top), through: 0, by: -1) {
                if layer != min(level, top) { scratch.beginWalk(nodes: count) }
                beamSearch(query, entry: current, entryDistance: currentDistance,
                           ef: parameters.efConstruction, level: layer, isAllowed: nil, scratch: scratch, locks: locks)
                var found: [(Float, UInt32)] = []
                found.reserveCapacity(scratch.results.count)
                while !scratch.results.isEmpty {
                    let candidate = scratch.results.pop()
                    if candidate.node != node { found.append((candidate.distance, candidate.node)) }
                }
                found.reverse() // closest first
                guard let closest = found.first else { continue }
                current = closest.1
                currentDistance = closest.0
                let chosen = selectNeighbors(found, limit: parameters.M)
                locks?.lock(node)
                let list = links(node, level: layer)
                list[0] = UInt32(chosen.count)
                for (index, neighbor) in chosen.enumerated() { list[1 + index] = neighbor.1 }
                locks?.unlock(node)
                for neighbor in chosen { connect(neighbor.1, to: node, distance: neighbor.0, level: layer, locks: locks) }
            }
        }
    }

    /// The diversity heuristic: keep a candidate only if it is closer to the base than to every
    /// neighbour already kept. `sorted` is closest first.
    func selectNeighbors(_ sorted: [(Float, UInt32)], limit: Int) -> [(Float, UInt32)] {
        guard sorted.count > limit else { return sorted }
        var kept: [(Float, UInt32)] = []
        kept.reserveCapacity(limit)
        for candidate in sorted {
            var good = true
            for keptNeighbor in kept where distance(between: candidate.1, keptNeighbor.1) < candidate.0 {
                good = false
                break
            }
            if good {
                kept.append(candidate)
                if kept.count >= limit { break }
            }
        }
        return kept
    }

    /// Adds `node` to `neighbor`'s list on `level`, pruning the list with the heuristic when full.
    private func connect(_ neighbor: UInt32, to node: UInt32, distance: Float, level: Int, locks: NodeLocks?) {
        locks?.lock(neighbor)
        defer { locks?.unlock(neighbor) }
        let capacity = level == 0 ? parameters.maxNeighborsLayer0 : parameters.M
        let list = links(neighbor, level: level)
        let count = Int(list[0])
        if count < capacity {
            list[1 + count] = node
            list[0] = UInt32(count + 1)
            return
        }
        var all: [(Float, UInt32)] = []
        all.reserveCapacity(count + 1)
        all.append((distance, node))
        for index in 0..<count { all.append((self.distance(between: neighbor, list[1 + index]), list[1 + index])) }
        all.sort { $0.0 < $1.0 }
        let kept = selectNeighbors(all, limit: capacity)
        list[0] = UInt32(kept.count)
        for (index, entry) in kept.enumerated() { list[1 + index] = entry.1 }
    }
}
