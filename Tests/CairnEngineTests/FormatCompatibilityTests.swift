@testable import CairnEngine
import CairnTestSupport
import CairnVector
import Foundation
import Testing

/// Files written by earlier versions keep opening: version 1 segments (cosine vectors stored
/// normalised, no scales block) and version 1 WAL files (no control records).
@Suite("Older file formats")
struct FormatCompatibilityTests {
    /// A current segment rewritten as an older `version` would have written it: the same blocks
    /// without the last `dropping` ones (version 3 had no sketches block, version 2 no codes block
    /// either, version 1 no scales either).
    private func olderVersion(_ bytes: [UInt8], version: UInt8, dropping: Int) -> [UInt8] {
        let blockCount = Int(bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bytes.count - 16, as: UInt32.self) })
        let kept = blockCount - dropping
        let footerStart = bytes.count - SegmentFormat.trailerSize - blockCount * SegmentFormat.footerEntrySize
        let entries = Array(bytes[footerStart..<(footerStart + kept * SegmentFormat.footerEntrySize)])
        let firstDroppedOffset = Int(bytes.withUnsafeBytes {
            $0.loadUnaligned(fromByteOffset: footerStart + kept * SegmentFormat.footerEntrySize + 4, as: UInt64.self)
        })
        var blocks = Array(bytes[0..<min(firstDroppedOffset, footerStart)])
        blocks.replaceSubrange(8..<12, with: [version, 0, 0, 0])
        var file = ByteWriter()
        file.write(raw: blocks)
        file.write(raw: entries)
        file.write(UInt32(kept))
        file.write(CRC32C.checksum(entries))
        file.write(raw: SegmentFormat.endMagic)
        return file.bytes
    }

    /// A current segment of `schema` over `vectors` (enough rows for a graph), in `directory`.
    private func graphSegment(_ schema: CollectionSchema, _ vectors: [Float], in directory: TemporaryDirectory) throws -> String {
        let built = directory.appending("fedcba9876543210.seg")
        let builder = try SegmentBuilder(schema: schema, path: built, fs: LocalFileSystem())
        var generator = SeededGenerator(seed: 6)
        let dimensions = schema.dimensions
        try vectors.withUnsafeBufferPointer { base in
            for row in 0..<(vectors.count / dimensions) {
                try builder.addRow(id: generator.uuid(), createdAt: 1, updatedAt: 2, properties: [:],
                                   vector: UnsafeBufferPointer(rebasing: base[row * dimensions..<(row + 1) * dimensions]))
            }
        }
        _ = try builder.finish()
        return built
    }

    @Test("a version 1 segment opens, its rows and vectors intact, searched with scale 1")
    func segmentVersionOne() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let schema = CollectionSchema(name: "c", dimensions: 8, metric: .cosine)
        let built = directory.appending("fedcba9876543210.seg")
        let builder = try SegmentBuilder(schema: schema, path: built, fs: LocalFileSystem())
        var generator = SeededGenerator(seed: 5)
        var rows: [(UUID, [Float])] = []
        for _ in 0..<100 {
            var vector = generator.vector(8)
            _ = vector.withUnsafeMutableBufferPointer { VectorKernels.normalize($0) }
            let id = generator.uuid()
            rows.append((id, vector))
            try vector.withUnsafeBufferPointer { try builder.addRow(id: id, createdAt: 1, updatedAt: 2, properties: [:], vector: $0) }
        }
        let path = directory.appending("0123456789abcdef.seg")
        _ = try builder.finish()
        try LocalFileSystem().writeNewFile(path, olderVersion(try LocalFileSystem().readFile(built), version: 1, dropping: 3))
        let segment = try Segment(file: try LocalFileSystem().map(path), id: "0123456789abcdef", schema: schema)
        #expect(segment.rowCount == 100)
        for (row, (id, vector)) in rows.enumerated() {
            #expect(segment.id(at: row) == id)
            #expect(Array(UnsafeBufferPointer(start: segment.vector(at: row), count: 8)) == vector)
            #expect(segment.scale(at: row) == 1)
        }
    }

    @Test("a version 2 segment (no codes block) of a collection that now quantizes opens, and its graph walks full vectors")
    func segmentVersionTwo() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let schema = CollectionSchema(name: "c", dimensions: 16, metric: .l2, quantization: .int8)
        let built = try graphSegment(schema, ClusteredData.vectors(count: SegmentFormat.graphThreshold, dimensions: 16, seed: 3), in: directory)
        let current = try Segment(file: try LocalFileSystem().map(built), id: "fedcba9876543210", schema: schema)
        #expect(current.codes != nil && current.graph != nil)
        let path = directory.appending("0123456789abcdef.seg")
        try LocalFileSystem().writeNewFile(path, olderVersion(try LocalFileSystem().readFile(built), version: 2, dropping: 2))
        let segment = try Segment(file: try LocalFileSystem().map(path), id: "0123456789abcdef", schema: schema)
        #expect(segment.codes == nil)
        let hits = try #require(segment.graph).search(segment.vector(at: 7), k: 1, ef: 32)
        #expect(hits.first?.row == 7 && hits.first?.distance == 0)
    }

    @Test("a version 3 segment (no sketches block) opens, and its graph measures every neighbour's vector")
    func segmentVersionThree() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let schema = CollectionSchema(name: "c", dimensions: 16, metric: .l2)
        let spread = ClusteredData.vectors(count: SegmentFormat.graphThreshold, dimensions: 16, clusters: 200, spread: 1.0, seed: 4)
        let built = try graphSegment(schema, spread, in: directory)
        let current = try Segment(file: try LocalFileSystem().map(built), id: "fedcba9876543210", schema: schema)
        #expect(current.sketches != nil && current.codes == nil)
        let path = directory.appending("0123456789abcdef.seg")
        try LocalFileSystem().writeNewFile(path, olderVersion(try LocalFileSystem().readFile(built), version: 3, dropping: 1))
        let segment = try Segment(file: try LocalFileSystem().map(path), id: "0123456789abcdef", schema: schema)
        #expect(segment.sketches == nil && segment.searchBytes.sketchBytes == 0)
        let hits = try #require(segment.graph).search(segment.vector(at: 7), k: 1, ef: 32, sketches: segment.sketches)
        #expect(hits.first?.row == 7 && hits.first?.distance == 0)
    }

    @Test("a version 1 WAL file (no control records) is replayed")
    func walVersionOne() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(CollectionSchema(name: "c", dimensions: 2, metric: .l2))
            try await engine.put([NewObject(vector: [1, 2]), NewObject(vector: [3, 4])], collection: "c")
            await engine.close()
        }
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        var bytes = try LocalFileSystem().readFile(wal)
        bytes.removeLast(WALFormat.controlRecord(.closed(lastLSN: 0)).count) // version 1 wrote no "closed" record
        bytes.replaceSubrange(8..<12, with: [1, 0, 0, 0])
        try LocalFileSystem().remove(wal)
        try LocalFileSystem().writeNewFile(wal, bytes)
        let engine = try await Engine.open(at: directory.path)
        #expect(try engine.count(collection: "c") == 2)
        await engine.close()
    }
}
