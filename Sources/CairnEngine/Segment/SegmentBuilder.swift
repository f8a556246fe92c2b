import CairnVector
import Foundation

/// Accumulates rows and tombstones and produces the bytes of one segment file
/// (see `SegmentFormat`). Used by flush (from a memtable) and by compaction (from segments).
struct SegmentBuilder {
    let dimensions: Int
    let metric: DistanceMetric
    /// The graph settings, or nil for no graph at all.
    let hnsw: HNSWParameters?
    /// The properties that get an inverted index.
    let indexedProperties: [String]
    /// A graph already built over exactly these rows in this order (a memtable's live graph),
    /// written instead of building one.
    var prebuiltGraph: HNSWIndex?

    private var vectors: ByteWriter
    /// Each row's scale, for cosine (`DistanceMetric.scale(of:)`).
    private var scales = ByteWriter()
    private var ids: [UUID] = []
    private var timestamps = ByteWriter()
    private var propertyOffsets = ByteWriter()
    private var propertyData = ByteWriter()
    private var tombstones: [UUID] = []
    private var postings: [PostingsBuilder]

    /// A builder for a segment of `schema`'s collection.
    init(schema: CollectionSchema, expectedRows: Int = 0) {
        self.init(dimensions: schema.dimensions, metric: schema.metric, hnsw: schema.hnsw,
                  indexedProperties: schema.properties.filter(\.indexed).map(\.name), expectedRows: expectedRows)
    }

    init(dimensions: Int, metric: DistanceMetric = .l2, hnsw: HNSWParameters? = nil, indexedProperties: [String], expectedRows: Int = 0) {
        self.dimensions = dimensions
        self.metric = metric
        self.hnsw = hnsw
        self.indexedProperties = indexedProperties
        vectors = ByteWriter(capacity: expectedRows * dimensions * 4)
        propertyOffsets.write(UInt64(0))
        postings = Array(repeating: PostingsBuilder(), count: indexedProperties.count)
    }

    var rowCount: Int { ids.count }
    var isEmpty: Bool { ids.isEmpty && tombstones.isEmpty }

    mutating func addRow(id: UUID, createdAt: Int64, updatedAt: Int64, properties: [String: PropertyValue],
                         vector: UnsafeBufferPointer<Float>) {
        precondition(vector.count == dimensions, "segment rows must have the collection's dimensions")
        let row = UInt32(ids.count)
        ids.append(id)
        vectors.write(floats: vector)
        if metric == .cosine { scales.write(metric.scale(of: vector)) }
        timestamps.write(createdAt)
        timestamps.write(updatedAt)
        PropertyCoding.encode(properties, into: &propertyData)
        propertyOffsets.write(UInt64(propertyData.count))
        for (index, name) in indexedProperties.enumerated() {
            if let value = properties[name] { postings[index].add(value, row: row) }
        }
    }

    mutating func addTombstone(_ id: UUID) {
        tombstones.append(id)
    }

    /// The finished file: header, aligned blocks, footer.
    func finish() -> [UInt8] {
        var file = ByteWriter(capacity: SegmentFormat.headerSize + vectors.count + propertyData.count + ids.count * 64 + 4096)
        file.write(raw: SegmentFormat.magic)
        file.write(SegmentFormat.version)
        file.write(UInt32(dimensions))
        file.write(UInt32(ids.count))
        file.write(UInt32(tombstones.count))
        file.pad(toMultipleOf: SegmentFormat.headerSize)

        var idBlock = ByteWriter(capacity: ids.count * 16)
        for id in ids { idBlock.write(id) }
        var orderBlock = ByteWriter(capacity: ids.count * 4)
        let keys = ids.map(UUIDOrder.init)
        for row in keys.indices.sorted(by: { keys[$0] < keys[$1] }) { orderBlock.write(UInt32(row)) }
        var tombstoneBlock = ByteWriter(capacity: tombstones.count * 16)
        for id in tombstones.sorted(by: { UUIDOrder($0) < UUIDOrder($1) }) { tombstoneBlock.write(id) }

        let blocks: [(SegmentFormat.Block, [UInt8])] = [
            (.vectors, vectors.bytes), (.ids, idBlock.bytes), (.idOrder, orderBlock.bytes),
            (.timestamps, timestamps.bytes), (.propertyOffsets, propertyOffsets.bytes),
            (.propertyData, propertyData.bytes), (.tombstones, tombstoneBlock.bytes), (.invertedIndex, invertedIndex()),
            (.graph, graph()), (.scales, scales.bytes),
        ]
        var footer = ByteWriter(capacity: blocks.count * SegmentFormat.footerEntrySize)
        for (kind, bytes) in blocks {
            file.pad(toMultipleOf: SegmentFormat.alignment)
            footer.write(kind.rawValue)
            footer.write(UInt64(file.count))
            footer.write(UInt64(bytes.count))
            footer.write(CRC32C.checksum(bytes))
            file.write(raw: bytes)
        }
        file.write(raw: footer.bytes)
        file.write(UInt32(blocks.count))
        file.write(CRC32C.checksum(footer.bytes))
        file.write(raw: SegmentFormat.endMagic)
        return file.bytes
    }

    /// The HNSW graph block, empty below `SegmentFormat.graphThreshold` rows.
    private func graph() -> [UInt8] {
        guard let hnsw, ids.count >= SegmentFormat.graphThreshold else { return [] }
        if let prebuiltGraph, prebuiltGraph.count == ids.count { return SegmentGraph.encode(prebuiltGraph) }
        return vectors.bytes.withUnsafeBytes { raw in
            SegmentGraph.encode(SegmentGraph.build(vectors: raw.baseAddress!.assumingMemoryBound(to: Float.self), rows: ids.count,
                                                   dimensions: dimensions, metric: metric, parameters: hnsw))
        }
    }

    private func invertedIndex() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(UInt32(indexedProperties.count))
        for (index, name) in indexedProperties.enumerated() { postings[index].write(name: name, into: &writer) }
        return writer.bytes
    }
}
