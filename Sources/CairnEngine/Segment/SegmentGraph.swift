import CairnVector

/// Writes an HNSW graph into a segment's graph block and maps it back without copying
/// (layout in `SegmentFormat`).
enum SegmentGraph {
    static let headerSize = 24

    /// Writes the block of `index` through `append`, its nodes renumbered so that node
    /// `order[i]` becomes node `i` (the rows' order in the segment). The link arrays are written
    /// from the graph a megabyte at a time, renumbered on the way: no second copy of them is held.
    static func write(_ index: HNSWIndex, order: [UInt32], to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let layout = index.layout
        let count = layout.levels.count
        precondition(order.count == count, "the order must cover every node")
        let newNumber = HNSWIndex.newNumbers(for: order)
        func renumbered(_ node: UInt32) -> UInt32 { newNumber[Int(node)] }
        func original(_ node: Int) -> Int { Int(order[node]) }

        var header = ByteWriter(capacity: headerSize + count + 4)
        header.write(UInt32(index.parameters.M))
        header.write(UInt32(index.parameters.efConstruction))
        header.write(Int32(layout.maxLevel))
        header.write(renumbered(layout.entryPoint))
        header.write(UInt32(count))
        header.write(UInt32(layout.upperLinks.count))
        for node in 0..<count { header.write(layout.levels[original(node)]) }
        header.pad(toMultipleOf: 4)
        try header.bytes.withUnsafeBytes(append)
        // Little-endian like every other integer of the format: the in-memory order on the
        // platforms Cairn runs on. Upper lists stay where they are; only their ids change.
        var chunk = ByteWriter(capacity: 1 << 20)
        func emit(_ word: UInt32) throws {
            chunk.write(word)
            if chunk.count >= 1 << 20 { try flush() }
        }
        func flush() throws {
            try chunk.bytes.withUnsafeBytes(append)
            chunk.removeAll()
        }
        /// A neighbour list (a count, then `slots` ids), its live ids renumbered, the rest zero.
        func emitList(_ list: UnsafeBufferPointer<UInt32>.SubSequence) throws {
            let live = Int(list.first!)
            try emit(UInt32(live))
            for (slot, node) in list.dropFirst().enumerated() { try emit(slot < live ? renumbered(node) : 0) }
        }
        for node in 0..<count { try emit(layout.upperStart[original(node)]) }
        let upperStride = 1 + index.parameters.M, layer0Stride = 1 + index.parameters.maxNeighborsLayer0
        for start in Swift.stride(from: 0, to: layout.upperLinks.count, by: upperStride) {
            try emitList(layout.upperLinks[start..<start + upperStride])
        }
        for node in 0..<count {
            let start = original(node) * layer0Stride
            try emitList(layout.layer0[start..<start + layer0Stride])
        }
        try flush()
    }

    /// The graph in `block` over the segment's mapped vectors; nil for an empty block.
    static func map(_ block: UnsafeRawBufferPointer, vectors: UnsafePointer<Float>?, scales: UnsafePointer<Float>?, rows: Int, dimensions: Int,
                    metric: DistanceMetric, efSearch: Int, owner: MappedFile) throws -> HNSWIndex? {
        guard !block.isEmpty else { return nil }
        var reader = ByteReader(block)
        let m = Int(try reader.read(UInt32.self))
        let efConstruction = Int(try reader.read(UInt32.self))
        let maxLevel = Int(try reader.read(Int32.self))
        let entryPoint = try reader.read(UInt32.self)
        let count = Int(try reader.read(UInt32.self))
        let upperCount = Int(try reader.read(UInt32.self))
        guard count == rows, (2...128).contains(m), let vectors else { throw ByteReader.Truncated(offset: 16) }
        let levels = try reader.readRaw(count: count)
        _ = try reader.readRaw(count: (4 - count % 4) % 4)
        func words(_ n: Int) throws -> UnsafeBufferPointer<UInt32> {
            let raw = try reader.readRaw(count: n * 4)
            return UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: UInt32.self), count: n)
        }
        let parameters = HNSWParameters(M: m, efConstruction: efConstruction, efSearch: efSearch)
        let upperStart = try words(count)
        let upperLinks = try words(upperCount)
        let layer0 = try words(count * (1 + parameters.maxNeighborsLayer0))
        let layout = HNSWLayout(layer0: layer0, levels: UnsafeBufferPointer(start: levels.baseAddress?.assumingMemoryBound(to: UInt8.self), count: count),
                                upperStart: upperStart, upperLinks: upperLinks, entryPoint: entryPoint, maxLevel: maxLevel)
        guard let index = HNSWIndex(dimensions: dimensions, metric: metric, parameters: parameters, vectors: vectors,
                                    scales: scales, count: count, layout: layout, owner: owner, checked: owner.evictPages(of:)) else {
            throw ByteReader.Truncated(offset: 0)
        }
        return index
    }
}
