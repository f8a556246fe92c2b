import CairnVector
import Foundation

/// Writes one segment file (see `SegmentFormat`) as rows arrive, with memory bounded by the
/// per-row metadata (ids, timestamps, offsets, scales, postings: about 50 bytes a row) and the
/// graph, not by the data: vectors stream straight into the file and property data into a
/// spill file beside it, both through bounded buffers. A segment with a graph also needs the
/// rows' vectors once all have arrived, to build the graph and to write the rows again in its
/// locality order: a copy read back from the file for that while. Used by flush (from a
/// memtable) and by compaction (from segments).
///
/// When the caller keeps the rows until the segment is finished (`rowSource`: a memtable whose
/// slots are exactly the rows), the builder keeps only postings, scales and the fingerprint:
/// ids, timestamps, properties and vectors are read from the source when they are written,
/// once, in the final order.
final class SegmentBuilder {
    let path: String
    let dimensions: Int
    let metric: DistanceMetric
    /// The graph settings, or nil for no graph at all.
    let hnsw: HNSWParameters?
    /// The properties that get an inverted index.
    let indexedProperties: [String]
    /// How the graph walk codes vectors (a codes block is written with the graph), or nil (a
    /// sketches block is written with the graph instead, for cosine and L2).
    let quantization: VectorQuantization?
    /// A graph already built over exactly these rows in this order (a memtable's live graph),
    /// written instead of building one.
    var prebuiltGraph: HNSWIndex?
    /// Where the rows come from when the caller keeps them (see the type's comment). Set before
    /// the first row, which is then added with `addSourceRow()`.
    var rowSource: (any SegmentRowSource)? {
        willSet { precondition(rowCount == 0, "rowSource is set before the first row") }
    }
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
            // The spill file is read back once, never mapped for searches: no huge pages to align for.
            propertyData = FileAppender(try fs.openForWriting(path + SegmentFormat.spillSuffix, .createOrTruncate), bufferSize: 256 << 10)
        } catch {
            vectors.file.close()
            try? fs.remove(path)
            throw error
        }
        propertyOffsets.write(UInt64(0))
        postings = Array(repeating: PostingsBuilder(), count: indexedProperties.count)
    }

    private(set) var rowCount = 0
    var tombstoneCount: Int { tombstones.count }
    var isEmpty: Bool { rowCount == 0 && tombstones.isEmpty }

    func addRow(id: UUID, createdAt: Int64, updatedAt: Int64, properties: [String: PropertyValue],
                vector: UnsafeBufferPointer<Float>) throws {
        precondition(rowSource == nil, "a builder with a row source adds rows with addSourceRow()")
        precondition(vector.count == dimensions, "segment rows must have the collection's dimensions")
        ids.append(id)
        try vectors.append(UnsafeRawBufferPointer(vector))
        timestamps.write(createdAt)
        timestamps.write(updatedAt)
        encodedProperties.removeAll()
        PropertyCoding.encode(properties, into: &encodedProperties)
        try propertyData.append(encodedProperties.bytes)
        propertyOffsets.write(UInt64(propertyData.position))
        encodedProperties.bytes.withUnsafeBytes { account(id: id, vector: vector, encodedProperties: $0) { properties[$0] } }
    }

    /// Adds the next of `rowSource`'s rows.
    func addSourceRow() {
        guard let rowSource else { preconditionFailure("addSourceRow() needs a rowSource") }
        let row = rowCount
        let vector = UnsafeBufferPointer(start: rowSource.vectors + row * dimensions, count: dimensions)
        rowSource.withEncodedProperties(ofRow: row) { encoded in
            account(id: rowSource.id(ofRow: row), vector: vector, encodedProperties: encoded) { PropertyCoding.value(named: $0, in: encoded) }
        }
    }

    /// What every row adds besides its stored bytes: its scale, the quantizer's ranges, its
    /// part of the fingerprint and its postings (`property` gives a property's value by name).
    private func account(id: UUID, vector: UnsafeBufferPointer<Float>, encodedProperties: UnsafeRawBufferPointer,
                         property: (String) -> PropertyValue?) {
        let row = UInt32(rowCount)
        rowCount += 1
        if metric == .cosine { scales.write(metric.scale(of: vector)) }
        if quantization != nil {
            for d in 0..<dimensions {
                minimum[d] = min(minimum[d], vector[d])
                maximum[d] = max(maximum[d], vector[d])
            }
        }
        fingerprint.add(ContentFingerprint(id: id, vector: vector, encodedProperties: encodedProperties))
        for (index, name) in indexedProperties.enumerated() {
            if let value = property(name) { postings[index].add(value, row: row) }
        }
    }

    func addTombstone(_ id: UUID) {
        tombstones.append(id)
    }

    /// Writes the remaining blocks, the footer and the header, syncs the file and removes the
    /// spill file. Returns the file's size and CRC32C.
    ///
    /// With a graph, the rows are written in the graph's locality order
    /// (`HNSWIndex.localityOrder`), not the order they arrived in: the vectors a walk reads one
    /// after another then lie near one another in the file. Row numbers are internal to a
    /// segment (lookups go by id), so nothing outside it sees the change.
    func finish() throws -> (bytes: Int, crc32c: UInt32) {
        defer { close() }
        try propertyData.flush()
        if rowSource == nil { try vectors.flush() }
        guard let hnsw, hasGraph else {
            let vectorsChecksum = try rowSource.map { try writeVectorsBlock($0.vectors, in: nil) } ?? vectors.checksum
            return try writeBlocks(vectorsChecksum: vectorsChecksum, graph: nil)
        }
        return try withRowVectors { rows in
            let graph = prebuiltGraph.flatMap { $0.count == rowCount ? $0 : nil }
                ?? HNSWIndex.build(vectors: rows, rows: rowCount, dimensions: dimensions, metric: metric,
                                   parameters: hnsw, threads: graphBuildThreads, borrowing: true)
            let order = graph.localityOrder()
            let vectorsChecksum = try writeVectorsBlock(rows, in: order)
            return try writeBlocks(vectorsChecksum: vectorsChecksum, graph: (graph, order, rows))
        }
    }

    /// Writes every block after the vectors, the footer and the header. `graph` is the rows'
    /// graph, the order the rows take (row `i` is the one that arrived `order[i]`th) and their
    /// vectors in arrival order; nil when the segment has none.
    private func writeBlocks(vectorsChecksum: UInt32,
                             graph: (index: HNSWIndex, order: [UInt32], vectors: UnsafePointer<Float>)?) throws -> (bytes: Int, crc32c: UInt32) {
        var footer = ByteWriter(capacity: SegmentFormat.Block.allCases.count * SegmentFormat.footerEntrySize)
        func record(_ kind: SegmentFormat.Block, start: Int, checksum: UInt32) {
            footer.write(kind.rawValue)
            footer.write(UInt64(start))
            footer.write(UInt64(vectors.position - start))
            footer.write(checksum)
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
            record(kind, start: start, checksum: vectors.checksum)
        }
        let order = graph?.order
        record(.vectors, start: SegmentFormat.headerSize, checksum: vectorsChecksum)
        func arrival(_ row: Int) -> Int { Self.arrival(row, in: order) }
        func id(_ row: Int) -> UUID { rowSource?.id(ofRow: row) ?? ids[row] }
        try streamedBlock(.ids) { append in
            try Self.appendPieces(count: rowCount, to: append) { row, piece in piece.write(id(arrival(row))) }
        }
        try streamedBlock(.idOrder) { append in
            var rows = [UInt32](0..<UInt32(rowCount))
            rows.sort { UUIDOrder(id(arrival(Int($0)))) < UUIDOrder(id(arrival(Int($1)))) }
            try Self.appendPieces(count: rows.count, to: append) { index, piece in piece.write(rows[index]) }
        }
        try streamedBlock(.timestamps) { append in
            guard let rowSource else { return try Self.appendRecords(of: timestamps, size: 16, in: order, to: append) }
            try Self.appendPieces(count: rowCount, to: append) { row, piece in
                let written = rowSource.timestamps(ofRow: arrival(row))
                piece.write(written.createdAt)
                piece.write(written.updatedAt)
            }
        }
        try writeProperties(in: order, block: block, streamedBlock: streamedBlock)
        var tombstoneBlock = ByteWriter(capacity: tombstones.count * 16)
        for id in tombstones.sorted(by: { UUIDOrder($0) < UUIDOrder($1) }) { tombstoneBlock.write(id) }
        try block(.tombstones, tombstoneBlock.bytes)
        try streamedBlock(.invertedIndex) { append in try writeInvertedIndex(in: order, to: append) }
        try streamedBlock(.graph) { append in
            if let graph { try SegmentGraph.write(graph.index, order: graph.order, to: append) }
        }
        reachedStep("segment-graph-written")
        try streamedBlock(.scales) { append in try Self.appendRecords(of: scales, size: 4, in: order, to: append) }
        try streamedBlock(.codes) { append in
            guard let graph, quantization == .int8 else { return }
            try SegmentCodes.write(vectors: graph.vectors, rows: rowCount, order: graph.order,
                                   quantizer: ScalarQuantizer(minimum: minimum, maximum: maximum), metric: metric, to: append)
        }
        reachedStep("segment-codes-written")
        try streamedBlock(.sketches) { append in
            guard let graph, SegmentSketches.apply(to: metric, quantization: quantization) else { return }
            try SegmentSketches.write(graph: graph.index, order: graph.order, threads: graphBuildThreads, to: append)
        }

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
        header.write(UInt32(rowCount))
        header.write(UInt32(tombstones.count))
        header.pad(toMultipleOf: SegmentFormat.headerSize)
        try header.bytes.withUnsafeBytes { try vectors.file.write($0, at: 0) }
        try vectors.file.fullSync()
        let written = try fs.map(path)
        return written.withBytes { ($0.count, written.checksumEvictingPages($0)) }
    }

    /// Writes the vectors block from `rows` (the vectors in arrival order), the rows in `order`
    /// (as they arrived when nil): for the first time when they come from `rowSource`, or else over
    /// the block `addRow` wrote, which has not been synced (usually only the page cache sees the
    /// first). Returns its CRC32C.
    private func writeVectorsBlock(_ rows: UnsafePointer<Float>, in order: [UInt32]?) throws -> UInt32 {
        let appender = rowSource == nil ? FileAppender(vectors.file, at: SegmentFormat.headerSize) : vectors
        let rowBytes = dimensions * MemoryLayout<Float>.stride
        if let order {
            for row in order { try appender.append(UnsafeRawBufferPointer(start: rows + Int(row) * dimensions, count: rowBytes)) }
        } else {
            try appender.append(UnsafeRawBufferPointer(start: rows, count: rowCount * rowBytes))
        }
        try appender.flush()
        return appender.checksum
    }

    /// Which row that arrived is the segment's row `row` when the rows are written in `order`.
    private static func arrival(_ row: Int, in order: [UInt32]?) -> Int { order.map { Int($0[row]) } ?? row }

    /// The bytes a streamed block gathers before handing them on.
    private static let pieceSize = 64 << 10

    /// Hands `append` the fixed-size records of `writer` (one per row), in `order` when given,
    /// a piece at a time.
    private static func appendRecords(of writer: ByteWriter, size: Int, in order: [UInt32]?,
                                      to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        try writer.bytes.withUnsafeBytes { source in
            guard let order else { return try append(source) }
            try appendPieces(count: order.count, to: append) { row, piece in
                piece.write(raw: UnsafeRawBufferPointer(start: source.baseAddress! + Int(order[row]) * size, count: size))
            }
        }
    }

    /// Hands `append` what `write` writes for each of `count` records, a piece at a time.
    private static func appendPieces(count: Int, to append: (UnsafeRawBufferPointer) throws -> Void,
                                     _ write: (Int, inout ByteWriter) -> Void) throws {
        var piece = ByteWriter(capacity: pieceSize + 64)
        for index in 0..<count {
            write(index, &piece)
            try piece.handOver(ifAtLeast: pieceSize, to: append)
        }
        try piece.handOver(to: append)
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

    /// Writes the property offsets and property data blocks: the spill file's bytes as they are,
    /// or each row's bytes in `order`, with offsets to match; or the row source's bytes.
    private func writeProperties(in order: [UInt32]?, block: (SegmentFormat.Block, [UInt8]) throws -> Void,
                                 streamedBlock: (SegmentFormat.Block, ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Void) throws {
        if let rowSource {
            try streamedBlock(.propertyOffsets) { append in
                try appendOffsets(in: order, to: append) { row in rowSource.withEncodedProperties(ofRow: row) { $0.count } }
            }
            try streamedBlock(.propertyData) { append in
                for row in 0..<rowCount { try rowSource.withEncodedProperties(ofRow: Self.arrival(row, in: order), append) }
            }
            return
        }
        guard let order else {
            try block(.propertyOffsets, propertyOffsets.bytes)
            try streamedBlock(.propertyData) { append in
                try withSpill { bytes in
                    let chunk = 1 << 20
                    for start in stride(from: 0, to: bytes.count, by: chunk) {
                        try append(UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + chunk, bytes.count)]))
                    }
                }
            }
            return
        }
        try propertyOffsets.bytes.withUnsafeBytes { raw in
            func offset(_ row: Int) -> Int { Int(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self))) }
            try streamedBlock(.propertyOffsets) { append in try appendOffsets(in: order, to: append) { row in offset(row + 1) - offset(row) } }
            try streamedBlock(.propertyData) { append in
                try withSpill { bytes in
                    for row in order { try append(UnsafeRawBufferPointer(rebasing: bytes[offset(Int(row))..<offset(Int(row) + 1)])) }
                }
            }
        }
    }

    /// Hands `append` the property offsets of the rows written in `order`, from the byte count
    /// of each row as it arrived (`length`).
    private func appendOffsets(in order: [UInt32]?, to append: (UnsafeRawBufferPointer) throws -> Void,
                               length: (Int) -> Int) throws {
        var end = 0
        try Self.appendPieces(count: rowCount + 1, to: append) { index, piece in
            if index > 0 { end += length(Self.arrival(index - 1, in: order)) }
            piece.write(UInt64(end))
        }
    }

    /// Runs `body` over the spill file's bytes (nothing when there are none), its pages let go afterwards.
    private func withSpill(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard propertyData.position > 0 else { return }
        let spill = try fs.map(spillPath)
        defer { spill.evictResidentPages() }
        try spill.withBytes(body)
    }

    /// Whether the segment gets a graph (and, with quantization, codes): not below
    /// `SegmentFormat.graphThreshold` rows.
    private var hasGraph: Bool { hnsw != nil && rowCount >= SegmentFormat.graphThreshold }

    /// Runs `body` over the rows' vectors in arrival order: the row source's, or else a copy of
    /// the vectors block read back from the file (its pages let go as they are copied), since
    /// the block is rewritten in the graph's order while they are still needed.
    private func withRowVectors<Result>(_ body: (UnsafePointer<Float>) throws -> Result) throws -> Result {
        if let rowSource { return try body(rowSource.vectors) }
        let count = rowCount * dimensions
        let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: count)
        defer { copy.deallocate() }
        let file = try fs.map(path)
        file.withBytes { bytes in
            var copied = 0
            file.forEachChunkEvictingPages(of: UnsafeRawBufferPointer(rebasing: bytes[SegmentFormat.headerSize..<SegmentFormat.headerSize + count * 4])) { piece in
                UnsafeMutableRawPointer(copy.baseAddress!).advanced(by: copied).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
                copied += piece.count
            }
        }
        file.evictResidentPages()
        return try body(copy.baseAddress!)
    }

    /// Hands the inverted index block to `append` in pieces, each property's postings freed
    /// once written.
    private func writeInvertedIndex(in order: [UInt32]?, to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let newRow = order.map(HNSWIndex.newNumbers(for:))
        try withUnsafeBytes(of: UInt32(indexedProperties.count).littleEndian, append)
        for (index, name) in indexedProperties.enumerated() { try postings[index].write(name: name, newRow: newRow, to: append) }
    }
}
