import CCairnSupport
import CairnVector
import Foundation

/// A segment file, mapped read-only and checked: every block's CRC32C is verified when it is
/// opened, so corrupt bytes are reported with the file and offset and never used.
final class Segment: @unchecked Sendable {
    /// The unique id in the file name.
    let id: String
    let path: String
    let dimensions: Int
    let rowCount: Int
    let tombstoneCount: Int
    let fileSize: Int

    private let file: MappedFile
    private let vectorBase: UnsafePointer<Float>?
    /// Each row's scale (cosine segments of version 2; nil when the vectors are unit length or
    /// the metric uses none).
    private let scaleBase: UnsafePointer<Float>?
    private let idBase: UnsafeRawPointer?
    private let idOrder: UnsafeRawPointer?
    private let timestampBase: UnsafeRawPointer?
    private let propertyOffsets: UnsafeRawPointer?
    private let propertyData: UnsafeRawBufferPointer
    private let tombstoneBase: UnsafeRawPointer?
    /// Inverted index per property.
    private let index: [String: PostingIndex]
    /// What recent filters matched (`matching(_:)`).
    private let recentMatches = MatchingRowsCache()

    /// The HNSW graph over the rows, or nil for a small segment (searched exactly).
    let graph: HNSWIndex?
    /// The bytes of the blocks a graph search reads: vectors, graph, codes, sketches.
    let searchBytes: SearchMemory
    /// The rows' quantized codes, which graph walks compare instead of the vectors (nil when
    /// the collection does not quantize, or the segment predates it).
    let codes: QuantizedVectors?
    /// The rows' sign sketches, which let walks over full vectors skip most of them (nil when the
    /// collection quantizes or uses the inner product, or the segment predates them).
    let sketches: SignSketches?

    /// Checks the mapped segment `file` (every block's checksum) against `schema`.
    init(file: MappedFile, id: String, schema: CollectionSchema) throws {
        let path = file.path
        self.path = path
        self.id = id
        self.file = file
        let bytes = file.bytes
        fileSize = bytes.count
        func corrupt(_ offset: Int, _ detail: String) -> CairnError { .corruption(file: path, offset: offset, detail: detail) }

        guard bytes.count >= SegmentFormat.headerSize + SegmentFormat.trailerSize,
              Array(bytes[0..<8]) == SegmentFormat.magic else { throw corrupt(0, "not a Cairn segment (bad header)") }
        guard Array(bytes[(bytes.count - 8)...]) == SegmentFormat.endMagic else {
            throw corrupt(bytes.count - 8, "segment is truncated (end marker missing)")
        }
        let version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard let expectedBlocks = SegmentFormat.blockCount(version: version) else { throw corrupt(8, "unsupported segment version \(version)") }
        dimensions = Int(bytes.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian)
        rowCount = Int(bytes.loadUnaligned(fromByteOffset: 16, as: UInt32.self).littleEndian)
        tombstoneCount = Int(bytes.loadUnaligned(fromByteOffset: 20, as: UInt32.self).littleEndian)

        let blockCount = Int(bytes.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt32.self).littleEndian)
        let footerCRC = bytes.loadUnaligned(fromByteOffset: bytes.count - 12, as: UInt32.self).littleEndian
        let footerStart = bytes.count - SegmentFormat.trailerSize - blockCount * SegmentFormat.footerEntrySize
        guard blockCount == expectedBlocks, footerStart >= SegmentFormat.headerSize else {
            throw corrupt(bytes.count - 16, "bad block count \(blockCount)")
        }
        let footer = UnsafeRawBufferPointer(rebasing: bytes[footerStart..<bytes.count - SegmentFormat.trailerSize])
        guard CRC32C.checksum(footer) == footerCRC else { throw corrupt(footerStart, "segment footer fails its checksum") }

        var blocks: [SegmentFormat.Block: UnsafeRawBufferPointer] = [:]
        for entry in 0..<blockCount {
            let at = entry * SegmentFormat.footerEntrySize
            let kind = footer.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian
            let offset = Int(footer.loadUnaligned(fromByteOffset: at + 4, as: UInt64.self).littleEndian)
            let length = Int(footer.loadUnaligned(fromByteOffset: at + 12, as: UInt64.self).littleEndian)
            let crc = footer.loadUnaligned(fromByteOffset: at + 20, as: UInt32.self).littleEndian
            guard let block = SegmentFormat.Block(rawValue: kind), offset >= SegmentFormat.headerSize,
                  length >= 0, offset <= footerStart - length else {
                throw corrupt(footerStart + at, "bad block table entry")
            }
            let region = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
            guard file.checksumEvictingPages(region) == crc else {
                throw corrupt(offset, "\(block) block fails its checksum")
            }
            blocks[block] = region
        }
        guard blocks.count == blockCount else { throw corrupt(footerStart, "a block is listed twice in the footer") }
        func block(_ kind: SegmentFormat.Block, expected: Int?) throws -> UnsafeRawBufferPointer {
            guard let region = blocks[kind] else { throw corrupt(footerStart, "\(kind) block is missing") }
            if let expected, region.count != expected {
                throw corrupt(region.baseAddress.map { $0 - bytes.baseAddress! } ?? 0, "\(kind) block has \(region.count) bytes, expected \(expected)")
            }
            return region
        }
        vectorBase = try block(.vectors, expected: rowCount * dimensions * 4).baseAddress?.assumingMemoryBound(to: Float.self)
        if version >= 2 && schema.metric == .cosine {
            scaleBase = try block(.scales, expected: rowCount * 4).baseAddress?.assumingMemoryBound(to: Float.self)
        } else {
            scaleBase = nil
        }
        idBase = try block(.ids, expected: rowCount * 16).baseAddress
        idOrder = try block(.idOrder, expected: rowCount * 4).baseAddress
        timestampBase = try block(.timestamps, expected: rowCount * 16).baseAddress
        propertyOffsets = try block(.propertyOffsets, expected: (rowCount + 1) * 8).baseAddress
        propertyData = try block(.propertyData, expected: nil)
        tombstoneBase = try block(.tombstones, expected: tombstoneCount * 16).baseAddress
        do {
            let postings = try block(.invertedIndex, expected: nil)
            index = try PostingIndex.parseAll(postings, rowCount: rowCount)
            file.evictPages(of: postings)
        } catch {
            throw corrupt(blocks[.invertedIndex]!.baseAddress! - bytes.baseAddress!, "malformed inverted index")
        }
        guard dimensions == schema.dimensions else {
            throw corrupt(12, "segment has \(dimensions) dimensions, the collection \(schema.dimensions)")
        }
        let graphBlock = blocks[.graph]!
        do {
            graph = try SegmentGraph.map(graphBlock, vectors: vectorBase, scales: scaleBase, rows: rowCount, dimensions: dimensions,
                                         metric: schema.metric, efSearch: schema.hnsw.efSearch, owner: file)
        } catch {
            throw corrupt(graphBlock.baseAddress.map { $0 - bytes.baseAddress! } ?? 0, "malformed HNSW graph")
        }
        if version >= 3 {
            let codesBlock = try block(.codes, expected: nil)
            do {
                codes = graph == nil ? nil : try SegmentCodes.map(codesBlock, rows: rowCount, dimensions: dimensions, metric: schema.metric)
            } catch {
                throw corrupt(codesBlock.baseAddress.map { $0 - bytes.baseAddress! } ?? 0, "malformed quantized codes")
            }
        } else {
            codes = nil
        }
        if version >= 4 {
            let sketchBlock = try block(.sketches, expected: nil)
            do {
                sketches = graph == nil ? nil : try SegmentSketches.map(sketchBlock, rows: rowCount, dimensions: dimensions)
            } catch {
                throw corrupt(sketchBlock.baseAddress.map { $0 - bytes.baseAddress! } ?? 0, "malformed sign sketches")
            }
        } else {
            sketches = nil
        }
        searchBytes = SearchMemory(vectorBytes: blocks[.vectors]!.count, graphBytes: graphBlock.count,
                                   codeBytes: codes == nil ? 0 : blocks[.codes]!.count,
                                   sketchBytes: sketches == nil ? 0 : blocks[.sketches]!.count)
        // Checking read every page; searches bring back the ones they use.
        file.evictResidentPages()
    }

    /// Lets the pages of the file read so far leave memory (see `MappedFile.evictResidentPages`).
    func evictResidentPages() { file.evictResidentPages() }

    /// The id of row `row`.
    func id(at row: Int) -> UUID {
        UUID(uuid: idBase!.loadUnaligned(fromByteOffset: row * 16, as: uuid_t.self))
    }

    /// Starts loading the id of row `row`: a search asks for its hits' ids only after it has
    /// compared every segment, so the cache misses overlap with that work.
    func prefetchID(at row: Int) {
        cairn_prefetch(idBase! + row * 16)
    }

    /// The vector of row `row`, straight from the mapping.
    func vector(at row: Int) -> UnsafePointer<Float> {
        vectorBase! + row * dimensions
    }

    /// The scale of row `row`'s vector (`DistanceMetric.scale(of:)`; 1 when the segment has none).
    func scale(at row: Int) -> Float {
        scaleBase?[row] ?? 1
    }

    func timestamps(at row: Int) -> (createdAt: Int64, updatedAt: Int64) {
        (Int64(littleEndian: timestampBase!.loadUnaligned(fromByteOffset: row * 16, as: Int64.self)),
         Int64(littleEndian: timestampBase!.loadUnaligned(fromByteOffset: row * 16 + 8, as: Int64.self)))
    }

    func properties(at row: Int) throws -> [String: PropertyValue] {
        var reader = ByteReader(try encodedProperties(at: row))
        do { return try PropertyCoding.decodeProperties(from: &reader) }
        catch { throw CairnError.corruption(file: path, offset: 0, detail: "properties of row \(row) are malformed") }
    }

    /// The encoded properties of row `row` (`PropertyCoding`), straight from the mapping.
    func encodedProperties(at row: Int) throws -> UnsafeRawBufferPointer {
        let start = Int(UInt64(littleEndian: propertyOffsets!.loadUnaligned(fromByteOffset: row * 8, as: UInt64.self)))
        let end = Int(UInt64(littleEndian: propertyOffsets!.loadUnaligned(fromByteOffset: row * 8 + 8, as: UInt64.self)))
        guard start <= end, end <= propertyData.count else {
            throw CairnError.corruption(file: path, offset: 0, detail: "property offsets of row \(row) are out of range")
        }
        return UnsafeRawBufferPointer(rebasing: propertyData[start..<end])
    }

    /// The content fingerprint of row `row`.
    func fingerprint(ofRow row: Int) throws -> ContentFingerprint {
        ContentFingerprint(id: id(at: row), vector: UnsafeBufferPointer(start: vector(at: row), count: dimensions),
                           encodedProperties: try encodedProperties(at: row))
    }

    /// The object in row `row`, with the parts `fields` names (the others empty or 0).
    func object(at row: Int, fields: ResultFields = .all) throws -> StoredObject {
        let (createdAt, updatedAt) = fields.contains(.timestamps) ? timestamps(at: row) : (0, 0)
        return StoredObject(id: id(at: row), properties: fields.contains(.properties) ? try properties(at: row) : [:],
                            vector: fields.contains(.vector) ? Array(UnsafeBufferPointer(start: vector(at: row), count: dimensions)) : [],
                            createdAtMilliseconds: createdAt, updatedAtMilliseconds: updatedAt)
    }

    /// The row holding `id`, by binary search over the sorted id order.
    func row(of id: UUID) -> Int? { row(ofKey: UUIDOrder(id)) }

    private func row(ofKey target: UUIDOrder) -> Int? {
        var low = 0, high = rowCount
        while low < high {
            let middle = (low + high) / 2
            let row = row(atIDOrderPosition: middle)
            let key = UUIDOrder(raw: idBase! + row * 16)
            if key == target { return row }
            if key < target { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The row at `position` in id order.
    func row(atIDOrderPosition position: Int) -> Int {
        Int(UInt32(littleEndian: idOrder!.loadUnaligned(fromByteOffset: position * 4, as: UInt32.self)))
    }

    /// The position in id order of the first id after `key` (0 when nil).
    func idOrderPosition(after key: UUIDOrder?) -> Int {
        guard let key else { return 0 }
        var low = 0, high = rowCount
        while low < high {
            let middle = (low + high) / 2
            if key < UUIDOrder(raw: idBase! + row(atIDOrderPosition: middle) * 16) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The ids of all rows, sorted.
    func sortedIDs() -> [UUIDOrder] {
        (0..<rowCount).map { UUIDOrder(raw: idBase! + row(atIDOrderPosition: $0) * 16) }
    }

    /// The ids this segment deletes, sorted (as stored).
    func sortedTombstones() -> [UUIDOrder] {
        (0..<tombstoneCount).map { UUIDOrder(raw: tombstoneBase! + $0 * 16) }
    }

    /// The rows whose id is in `sortedKeys`: a binary search per key when there are few, one
    /// merge walk over the sorted id order when there are many.
    func rows(withIDsIn sortedKeys: [UUIDOrder]) -> Bitmap {
        var rows = Bitmap(count: rowCount)
        guard !sortedKeys.isEmpty, rowCount > 0 else { return rows }
        if sortedKeys.count * 32 < rowCount {
            for key in sortedKeys { if let row = row(ofKey: key) { rows[row] = true } }
            return rows
        }
        var next = 0
        for position in 0..<rowCount {
            let row = Int(UInt32(littleEndian: idOrder!.loadUnaligned(fromByteOffset: position * 4, as: UInt32.self)))
            let key = UUIDOrder(raw: idBase! + row * 16)
            while next < sortedKeys.count && sortedKeys[next] < key { next += 1 }
            if next == sortedKeys.count { break }
            if sortedKeys[next] == key { rows[row] = true }
        }
        return rows
    }

    /// Whether this segment deletes `id` (hiding older segments' rows).
    func hasTombstone(_ id: UUID) -> Bool {
        let target = UUIDOrder(id)
        var low = 0, high = tombstoneCount
        while low < high {
            let middle = (low + high) / 2
            let key = UUIDOrder(raw: tombstoneBase! + middle * 16)
            if key == target { return true }
            if key < target { low = middle + 1 } else { high = middle }
        }
        return false
    }

    func tombstone(at index: Int) -> UUID {
        UUID(uuid: tombstoneBase!.loadUnaligned(fromByteOffset: index * 16, as: uuid_t.self))
    }

    /// The rows `filter` matches and how many, remembered for the next searches with it.
    func matching(_ filter: BoundFilter) -> MatchingRowsCache.Match {
        recentMatches.match(filter) { rows(matching: filter) }
    }

    /// The rows that satisfy `filter`, from the inverted index.
    func rows(matching filter: BoundFilter) -> Bitmap {
        switch filter {
        case let .compare(name, op, key):
            guard let postings = index[name] else { return Bitmap(count: rowCount, filled: op == .notEqual) }
            if op == .notEqual {
                var rows = postings.rows(in: postings.range(of: .equal, key), rowCount: rowCount)
                rows.invert()
                return rows
            }
            return postings.rows(in: postings.range(of: op, key), rowCount: rowCount)
        case let .isIn(name, keys):
            var result = Bitmap(count: rowCount)
            guard let postings = index[name] else { return result }
            for key in keys { result.formUnion(postings.rows(in: postings.range(of: .equal, key), rowCount: rowCount)) }
            return result
        case let .and(filters):
            var result = Bitmap(count: rowCount, filled: true)
            for inner in filters { result.formIntersection(rows(matching: inner)) }
            return result
        case let .or(filters):
            var result = Bitmap(count: rowCount)
            for inner in filters { result.formUnion(rows(matching: inner)) }
            return result
        case let .not(inner):
            var result = rows(matching: inner)
            result.invert()
            return result
        }
    }
}
