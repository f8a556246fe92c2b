import CairnVector

/// Writes an HNSW graph into a segment's graph block and maps it back without copying
/// (layout in `SegmentFormat`).
enum SegmentGraph {
    static let headerSize = 24

    /// Writes the block of `index` through `append` (the link arrays straight from the graph:
    /// no second copy of them is held).
    static func write(_ index: HNSWIndex, to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let layout = index.layout
        var header = ByteWriter(capacity: headerSize + layout.levels.count + 4)
        header.write(UInt32(index.parameters.M))
        header.write(UInt32(index.parameters.efConstruction))
        header.write(Int32(layout.maxLevel))
        header.write(layout.entryPoint)
        header.write(UInt32(layout.levels.count))
        header.write(UInt32(layout.upperLinks.count))
        header.write(raw: UnsafeRawBufferPointer(layout.levels))
        header.pad(toMultipleOf: 4)
        try header.bytes.withUnsafeBytes(append)
        // Little-endian like every other integer of the format: the in-memory order on the
        // platforms Cairn runs on.
        for buffer in [layout.upperStart, layout.upperLinks, layout.layer0] { try append(UnsafeRawBufferPointer(buffer)) }
    }

    /// The graph in `block` over the segment's mapped vectors; nil for an empty block.
    static func map(_ block: UnsafeRawBufferPointer, vectors: UnsafePointer<Float>?, scales: UnsafePointer<Float>?, rows: Int, dimensions: Int,
                    metric: DistanceMetric, efSearch: Int, owner: AnyObject) throws -> HNSWIndex? {
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
                                    scales: scales, count: count, layout: layout, owner: owner) else {
            throw ByteReader.Truncated(offset: 0)
        }
        return index
    }
}
