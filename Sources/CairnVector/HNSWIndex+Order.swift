extension HNSWIndex {
    /// The nodes in an order that keeps neighbours close together: breadth first over layer 0
    /// from the entry point (nodes it does not reach follow, each starting a new sweep).
    /// Numbering nodes in this order puts the vectors a walk reads next to one another in
    /// memory, so a walk misses the caches and the TLB less than over insertion order, in which
    /// neighbours lie anywhere. `order[i]` is the node that becomes node `i`.
    public func localityOrder() -> [UInt32] {
        var order: [UInt32] = []
        order.reserveCapacity(count)
        guard count > 0 else { return order }
        var placed = [Bool](repeating: false, count: count)
        var nextUnplaced = 0
        var sweepStart = Int(entryPoint)
        while true {
            placed[sweepStart] = true
            order.append(UInt32(sweepStart))
            var head = order.count - 1
            while head < order.count {
                let list = links(order[head], level: 0)
                head += 1
                for slot in 0..<Int(list[0]) where !placed[Int(list[1 + slot])] {
                    placed[Int(list[1 + slot])] = true
                    order.append(list[1 + slot])
                }
            }
            while nextUnplaced < count && placed[nextUnplaced] { nextUnplaced += 1 }
            guard nextUnplaced < count else { return order }
            sweepStart = nextUnplaced
        }
    }
}

extension HNSWIndex {
    /// A copy of this graph with node `order[i]` numbered `i` (vectors, scales and links
    /// copied): the same walks, over the layout a segment stores for the order
    /// `localityOrder()` gives. A hit's `row` is then `i`; `order[i]` is the original node.
    public func renumbered(_ order: [UInt32]) -> HNSWIndex {
        precondition(order.count == count, "the order must cover every node")
        let newNumber = Self.newNumbers(for: order)
        let copy = HNSWIndex(dimensions: dimensions, metric: metric, parameters: parameters, capacity: max(1, count))
        for node in order.map(Int.init) {
            copy.vectors.append(contentsOf: UnsafeBufferPointer(start: vector(node), count: dimensions))
            if copy.isScaled { copy.scales.append(repeating: scale(node), count: 1) }
            let level = Int(levels.base[node])
            copy.layer0.append(repeating: 0, count: layer0Stride)
            copy.levels.append(repeating: UInt8(level), count: 1)
            copy.upperStart.append(repeating: UInt32(copy.upperLinks.count), count: 1)
            copy.upperLinks.append(repeating: 0, count: level * upperStride)
        }
        for (position, node) in order.enumerated() {
            for level in 0...Int(levels.base[Int(node)]) {
                let source = links(node, level: level), target = copy.links(UInt32(position), level: level)
                target[0] = source[0]
                for slot in 0..<Int(source[0]) { target[1 + slot] = newNumber[Int(source[1 + slot])] }
            }
        }
        copy.entryPoint = count == 0 ? 0 : newNumber[Int(entryPoint)]
        copy.maxLevel = maxLevel
        return copy
    }

    /// Each node's number in `order` (where node `order[i]` becomes node `i`): the inverse permutation.
    public static func newNumbers(for order: [UInt32]) -> [UInt32] {
        var newNumber = [UInt32](repeating: 0, count: order.count)
        for (position, node) in order.enumerated() { newNumber[Int(node)] = UInt32(position) }
        return newNumber
    }
}
