import CairnVector

/// Writes an HNSW graph into a segment's graph block and maps it back without copying
/// (layout in `SegmentFormat`).
enum SegmentGraph {
    static let headerSize = 24

    static func encode(_ index: HNSWIndex) -> [UInt8] {
        let layout = index.layout
        var writer = ByteWriter(capacity: headerSize + layout.levels.count * 5 + (layout.upperLinks.count + layout.layer0.count) * 4 + 4)
        writer.write(UInt32(index.parameters.M))
        writer.write(UInt32(index.parameters.efConstruction))
        writer.write(Int32(layout.maxLevel))
        writer.write(layout.entryPoint)
        writer.write(UInt32(layout.levels.count))
        writer.write(UInt32(layout.upperLinks.count))
        writer.write(raw: UnsafeRawBufferPointer(layout.levels))
        writer.pad(toMultipleOf: 4)
        for buffer in [layout.upperStart, layout.upperLinks, layout.layer0] {
            for value in buffer { writer.write(value) }
        }
        return writer.bytes
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
