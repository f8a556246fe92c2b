import CairnVector
import Foundation

/// Writes one segment file (see `SegmentFormat`) as rows arrive, with memory bounded by the
/// per-row metadata (ids, timestamps, offsets, scales, postings: about 50 bytes a row) and the
/// graph, not by the data: vectors stream straight into the file and property data into a
/// spill file beside it, both through 1 MiB buffers. A graph that is not prebuilt is built over
/// the caller's vectors (`rowVectors`) or else the vectors mapped back from the file. Used by
/// flush (from a memtable) and by compaction (from segments).
final class SegmentBuilder {
    let path: String
    let dimensions: Int
    let metric: DistanceMetric
    /// The graph settings, or nil for no graph at all.
    let hnsw: HNSWParameters?
    /// The properties that get an inverted index.
    let indexedProperties: [String]
    /// How the graph walk codes vectors (a codes block is written with the graph), or nil.
    let quantization: VectorQuantization?
    /// A graph already built over exactly these rows in this order (a memtable's live graph),
    /// written instead of building one.
    var prebuiltGraph: HNSWIndex?
    /// The rows' vectors in row order, contiguous, when the caller already holds them (a flush of
    /// a memtable whose slots are exactly the rows): the graph and the codes are built over
    /// them, instead of over the file's vectors mapped back, which would be resident beside them.
    var rowVectors: UnsafePointer<Float>?
    /// Threads that link the graph when it is built here.
    var graphBuildThreads = 1
    /// Called after the graph block and after the codes block are written (`EngineOptions.reachedStep`).
    var reachedStep: @Sendable (String) -> Void = { _ in }

    private let fs: any FileSystem
    private let vectors: FileAppender
    private let propertyData: FileAppender
    /// Each row's scale, for cosine (`DistanceMetric.scale(of:)`).
    private var scales = ByteWriter()
    /// Per dimension, the smallest and largest value so far (with quantization: the codes' ranges).
    private var minimum: [Float] = []
    private var maximum: [Float] = []
    private var ids: [UUID] = []
    private var timestamps = ByteWriter()
    private var propertyOffsets = ByteWriter()
    private var tombstones: [UUID] = []
    private var postings: [PostingsBuilder]
    private var encodedProperties = ByteWriter()
    /// The content fingerprint of the rows added so far.
    private(set) var fingerprint = ContentFingerprint()

    /// The spill file that holds property data until `finish` copies it into the segment.
    var spillPath: String { path + SegmentFormat.spillSuffix }

    /// A builder of a new segment of `schema`'s collection at `path` (which must not exist).
    convenience init(schema: CollectionSchema, path: String, fs: any FileSystem) throws {
        try self.init(dimensions: schema.dimensions, metric: schema.metric, hnsw: schema.hnsw,
                      indexedProperties: schema.properties.filter(\.indexed).map(\.name), quantization: schema.quantization,
                      path: path, fs: fs)
    }

    init(dimensions: Int, metric: DistanceMetric = .l2, hnsw: HNSWParameters? = nil, indexedProperties: [String],
         quantization: VectorQuantization? = nil, path: String, fs: any FileSystem) throws {
        self.path = path
        self.fs = fs
        self.dimensions = dimensions
        self.metric = metric
        self.hnsw = hnsw
        self.indexedProperties = indexedProperties
        self.quantization = hnsw == nil ? nil : quantization
        if self.quantization != nil {
            minimum = Array(repeating: .infinity, count: dimensions)
            maximum = Array(repeating: -.infinity, count: dimensions)
        }
        vectors = FileAppender(try fs.openForWriting(path, .createNew), at: SegmentFormat.headerSize)
        do {
            propertyData = FileAppender(try fs.openForWriting(path + SegmentFormat.spillSuffix, .createOrTruncate))
        } catch {
            vectors.file.close()
            try? fs.remove(path)
            throw error
        }
        propertyOffsets.write(UInt64(0))
        postings = Array(repeating: PostingsBuilder(), count: indexedProperties.count)
    }

    var rowCount: Int { ids.count }
    var tombstoneCount: Int { tombstones.count }
    var isEmpty: Bool { ids.isEmpty && tombstones.isEmpty }

    func addRow(id: UUID, createdAt: Int64, updatedAt: Int64, properties: [String: PropertyValue],
                vector: UnsafeBufferPointer<Float>) throws {
        precondition(vector.count == dimensions, "segment rows must have the collection's dimensions")
        let row = UInt32(ids.count)
        ids.append(id)
        try vectors.append(UnsafeRawBufferPointer(vector))
        if metric == .cosine { scales.write(metric.scale(of: vector)) }
        if quantization != nil {
            for d in 0..<dimensions {
                minimum[d] = min(minimum[d], vector[d])
                maximum[d] = max(maximum[d], vector[d])
            }
        }
        timestamps.write(createdAt)
        timestamps.write(updatedAt)
        encodedProperties.removeAll()
        PropertyCoding.encode(properties, into: &encodedProperties)
        try propertyData.append(encodedProperties.bytes)
        fingerprint.add(encodedProperties.bytes.withUnsafeBytes { ContentFingerprint(id: id, vector: vector, encodedProperties: $0) })
        propertyOffsets.write(UInt64(propertyData.position))
        for (index, name) in indexedProperties.enumerated() {
            if let value = properties[name] { postings[index].add(value, row: row) }
        }
    }

    func addTombstone(_ id: UUID) {
        tombstones.append(id)
    }

    /// Writes the remaining blocks, the footer and the header, syncs the file and removes the
    /// spill file. Returns the file's size and CRC32C.
    func finish() throws -> (bytes: Int, crc32c: UInt32) {
        defer { close() }
        try vectors.flush()
        try propertyData.flush()
        var footer = ByteWriter(capacity: SegmentFormat.Block.allCases.count * SegmentFormat.footerEntrySize)
        func record(_ kind: SegmentFormat.Block, start: Int) {
            footer.write(kind.rawValue)
            footer.write(UInt64(start))
            footer.write(UInt64(vectors.position - start))
            footer.write(vectors.checksum)
        }
        func block(_ kind: SegmentFormat.Block, _ bytes: [UInt8]) throws {
            try streamedBlock(kind) { append in try bytes.withUnsafeBytes(append) }
        }
        /// A block whose bytes `write` hands over in pieces.
        func streamedBlock(_ kind: SegmentFormat.Block, _ write: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
            try vectors.pad(toMultipleOf: SegmentFormat.alignment)
            vectors.startChecksum()
            let start = vectors.position
            try write(vectors.append)
            record(kind, start: start)
        }
        record(.vectors, start: SegmentFormat.headerSize)
        var idBlock = ByteWriter(capacity: ids.count * 16)
        for id in ids { idBlock.write(id) }
        try block(.ids, idBlock.bytes)
        idBlock = ByteWriter()
        var orderBlock = ByteWriter(capacity: ids.count * 4)
        let keys = ids.map(UUIDOrder.init)
        for row in keys.indices.sorted(by: { keys[$0] < keys[$1] }) { orderBlock.write(UInt32(row)) }
        try block(.idOrder, orderBlock.bytes)
        orderBlock = ByteWriter()
        try block(.timestamps, timestamps.bytes)
        try block(.propertyOffsets, propertyOffsets.bytes)
        try copyPropertyData()
        record(.propertyData, start: vectors.position - propertyData.position)
        var tombstoneBlock = ByteWriter(capacity: tombstones.count * 16)
        for id in tombstones.sorted(by: { UUIDOrder($0) < UUIDOrder($1) }) { tombstoneBlock.write(id) }
        try block(.tombstones, tombstoneBlock.bytes)
        try block(.invertedIndex, invertedIndex())
        try streamedBlock(.graph, writeGraph)
        reachedStep("segment-graph-written")
        try block(.scales, scales.bytes)
        try streamedBlock(.codes, writeCodes)
        reachedStep("segment-codes-written")

        try vectors.append(footer.bytes)
        var trailer = ByteWriter(capacity: SegmentFormat.trailerSize)
        trailer.write(UInt32(SegmentFormat.Block.allCases.count))
        trailer.write(CRC32C.checksum(footer.bytes))
        trailer.write(raw: SegmentFormat.endMagic)
        try vectors.append(trailer.bytes)
        try vectors.flush()
        var header = ByteWriter(capacity: SegmentFormat.headerSize)
        header.write(raw: SegmentFormat.magic)
        header.write(SegmentFormat.version)
        header.write(UInt32(dimensions))
        header.write(UInt32(ids.count))
        header.write(UInt32(tombstones.count))
        header.pad(toMultipleOf: SegmentFormat.headerSize)
        try header.bytes.withUnsafeBytes { try vectors.file.write($0, at: 0) }
        try vectors.file.fullSync()
        let written = try fs.map(path)
        return written.withBytes { ($0.count, written.checksumEvictingPages($0)) }
    }

    /// Closes both files and deletes them: the segment will not be used.
    func abandon() {
        close()
        try? fs.remove(path)
    }

    private func close() {
        vectors.file.close()
        propertyData.file.close()
        try? fs.remove(spillPath)
    }

    /// Appends the spill file's bytes to the segment as the property data block.
    private func copyPropertyData() throws {
        try vectors.pad(toMultipleOf: SegmentFormat.alignment)
        vectors.startChecksum()
        guard propertyData.position > 0 else { return }
        try fs.map(spillPath).withBytes { spill in
            let chunk = 1 << 20
            var start = 0
            while start < spill.count {
                try vectors.append(UnsafeRawBufferPointer(rebasing: spill[start..<min(start + chunk, spill.count)]))
                start += chunk
            }
        }
    }

    /// Whether the segment gets a graph (and, with quantization, codes): not below
    /// `SegmentFormat.graphThreshold` rows.
    private var hasGraph: Bool { hnsw != nil && ids.count >= SegmentFormat.graphThreshold }

    /// Writes the HNSW graph block (nothing without a graph), built over the rows' vectors unless prebuilt.
    private func writeGraph(to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let hnsw, hasGraph else { return }
        if let prebuiltGraph, prebuiltGraph.count == ids.count { return try SegmentGraph.write(prebuiltGraph, to: append) }
        try withRowVectors { rows in
            let index = HNSWIndex.build(vectors: rows, rows: ids.count, dimensions: dimensions, metric: metric,
                                        parameters: hnsw, threads: graphBuildThreads, borrowing: true)
            try SegmentGraph.write(index, to: append)
        }
    }

    /// Writes the quantized codes block (nothing without a graph or quantization), coded from the rows' vectors.
    private func writeCodes(to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard quantization == .int8, hasGraph else { return }
        let quantizer = ScalarQuantizer(minimum: minimum, maximum: maximum)
        try withRowVectors { rows in
            try SegmentCodes.write(vectors: rows, rows: ids.count, quantizer: quantizer, metric: metric, to: append)
        }
    }

    /// Runs `body` over the rows' vectors: `rowVectors`, or else the file's mapped back (its pages
    /// let go afterwards, so the whole vector block is not left resident).
    private func withRowVectors<Result>(_ body: (UnsafePointer<Float>) throws -> Result) throws -> Result {
        if let rowVectors { return try body(rowVectors) }
        try vectors.flush()
        let file = try fs.map(path)
        defer { file.evictResidentPages() }
        return try file.withBytes { bytes in
            try body((bytes.baseAddress! + SegmentFormat.headerSize).assumingMemoryBound(to: Float.self))
        }
    }

    private func invertedIndex() -> [UInt8] {
        var writer = ByteWriter()
        writer.write(UInt32(indexedProperties.count))
        for (index, name) in indexedProperties.enumerated() { postings[index].write(name: name, into: &writer) }
        return writer.bytes
    }
}
