@testable import CairnEngine
import CairnTestSupport
import CairnVector
import Foundation
import Testing

@Suite("Streaming segment builder")
struct SegmentBuilderTests {
    private let schema = CollectionSchema(name: "c", dimensions: 64, metric: .cosine,
                                          properties: [PropertyDefinition(name: "text", type: PropertyType(.text)),
                                                       PropertyDefinition(name: "n", type: PropertyType(.int))])

    @Test("a segment larger than the write buffers reads back exactly: vectors, properties, tombstones, graph and checksums")
    func largeSegmentRoundTrips() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("00000000000000aa.seg")
        let builder = try SegmentBuilder(schema: schema, path: path, fs: LocalFileSystem())
        var generator = SeededGenerator(seed: 11)
        // 5,000 rows: 1.3 MB of vectors and about 2.5 MB of property data, past the 1 MiB buffers.
        var rows: [(UUID, [Float], String)] = []
        for index in 0..<5000 {
            let id = generator.uuid(), vector = generator.vector(64)
            let text = String(repeating: "row \(index) ", count: 50)
            rows.append((id, vector, text))
            try vector.withUnsafeBufferPointer {
                try builder.addRow(id: id, createdAt: Int64(index), updatedAt: Int64(index) + 1,
                                   properties: ["text": .string(text), "n": .int(Int64(index))], vector: $0)
            }
        }
        let deleted = generator.uuid()
        builder.addTombstone(deleted)
        #expect(FileManager.default.fileExists(atPath: builder.spillPath))
        let file = try builder.finish()
        #expect(!FileManager.default.fileExists(atPath: builder.spillPath), "the spill file is removed")
        let bytes = try LocalFileSystem().readFile(path)
        #expect(file.bytes == bytes.count && file.crc32c == CRC32C.checksum(bytes))

        let segment = try Segment(file: try LocalFileSystem().map(path), id: "00000000000000aa", schema: schema)
        #expect(segment.rowCount == 5000 && segment.tombstoneCount == 1 && segment.hasTombstone(deleted))
        // With a graph, rows are stored in its locality order, not the order they arrived in:
        // every object must still be found whole under its id.
        var positions = Set<Int>()
        for (index, (id, vector, text)) in rows.enumerated() {
            let row = try #require(segment.row(of: id))
            positions.insert(row)
            #expect(segment.id(at: row) == id)
            #expect(Array(UnsafeBufferPointer(start: segment.vector(at: row), count: 64)) == vector)
            #expect(try segment.properties(at: row) == ["text": .string(text), "n": .int(Int64(index))])
            #expect(segment.timestamps(at: row) == (Int64(index), Int64(index) + 1))
        }
        #expect(positions.count == 5000)
        #expect((0..<5000).contains { segment.id(at: $0) != rows[$0].0 }, "the rows were reordered")
        let below = segment.rows(matching: .compare("n", .less, IndexKey(PropertyValue.int(1000))))
        #expect(Set((0..<5000).filter { below[$0] }.map(segment.id(at:))) == Set(rows.prefix(1000).map(\.0)),
                "the inverted index names the rows' new numbers")
        let graph = try #require(segment.graph, "5,000 rows get a graph built over the vectors read back from the file")
        let probe = rows[1234].1
        let hits = probe.withUnsafeBufferPointer { graph.search($0.baseAddress!, k: 1, ef: 64) }
        #expect(hits.first?.row == segment.row(of: rows[1234].0))
    }

    @Test("rows the caller keeps (a flush), read in place and written once at the end, make the same file as rows copied as they arrive, with and without a graph",
          arguments: [3000, 500])
    func sourceRowsMakeTheSameSegment(rows: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let schema = CollectionSchema(name: "c", dimensions: 48, metric: .cosine,
                                      properties: [PropertyDefinition(name: "n", type: PropertyType(.int)),
                                                   PropertyDefinition(name: "tag", type: PropertyType(.text), indexed: false)],
                                      quantization: .int8)
        var generator = SeededGenerator(seed: 12)
        let source = ArrayRows(vectors: (0..<rows).flatMap { _ in generator.vector(48) }, dimensions: 48,
                               ids: (0..<rows).map { _ in generator.uuid() },
                               properties: (0..<rows).map { ["n": .int(Int64($0 % 7)), "tag": .string("row \($0)")] })
        var files: [[UInt8]] = []
        for fromSource in [false, true] {
            let path = directory.appending(fromSource ? "00000000000000c1.seg" : "00000000000000c2.seg")
            let builder = try SegmentBuilder(schema: schema, path: path, fs: LocalFileSystem())
            if fromSource {
                builder.rowSource = source
                for _ in 0..<rows { builder.addSourceRow() }
            } else {
                for row in 0..<rows {
                    let stamps = source.timestamps(ofRow: row)
                    try builder.addRow(id: source.ids[row], createdAt: stamps.createdAt, updatedAt: stamps.updatedAt, properties: source.properties[row],
                                       vector: UnsafeBufferPointer(start: source.vectors + row * 48, count: 48))
                }
            }
            _ = try builder.finish()
            files.append(try LocalFileSystem().readFile(path))
            let segment = try Segment(file: try LocalFileSystem().map(path), id: fromSource ? "00000000000000c1" : "00000000000000c2", schema: schema)
            #expect((segment.graph != nil && segment.codes != nil) == (rows >= SegmentFormat.graphThreshold))
            #expect(segment.rowCount == rows)
            let row = try #require(segment.row(of: source.ids[17]))
            #expect(try segment.properties(at: row) == source.properties[17])
            // Six filters, twice: more than the segment remembers, and each one remembered.
            let filters = (0..<6).map { BoundFilter.compare("n", .less, IndexKey(.int(Int64($0)))) }
            for filter in filters + filters {
                let match = segment.matching(filter)
                #expect(match.rows == segment.rows(matching: filter) && match.count == match.rows.cardinality)
            }
        }
        #expect(files[0] == files[1])
    }

    /// Rows held in arrays, as a memtable holds them.
    private final class ArrayRows: SegmentRowSource {
        let vectors: UnsafePointer<Float>
        let ids: [UUID]
        let properties: [[String: PropertyValue]]
        private let encoded: [[UInt8]]

        init(vectors: [Float], dimensions: Int, ids: [UUID], properties: [[String: PropertyValue]]) {
            let storage = UnsafeMutablePointer<Float>.allocate(capacity: vectors.count)
            storage.initialize(from: vectors, count: vectors.count)
            self.vectors = UnsafePointer(storage)
            self.ids = ids
            self.properties = properties
            encoded = properties.map { values in
                var writer = ByteWriter()
                PropertyCoding.encode(values, into: &writer)
                return writer.bytes
            }
        }

        deinit { vectors.deallocate() }

        func id(ofRow row: Int) -> UUID { ids[row] }
        func timestamps(ofRow row: Int) -> (createdAt: Int64, updatedAt: Int64) { (Int64(row), Int64(row) * 2) }
        func withEncodedProperties<Result>(ofRow row: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
            try encoded[row].withUnsafeBytes(body)
        }
    }

    @Test("an abandoned segment leaves no file; a spill file left by a crash is removed at open")
    func abandonedAndLeftoverFiles() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.appending("00000000000000bb.seg")
        let builder = try SegmentBuilder(schema: schema, path: path, fs: LocalFileSystem())
        try [Float](repeating: 1, count: 64).withUnsafeBufferPointer {
            try builder.addRow(id: UUID(), createdAt: 0, updatedAt: 0, properties: [:], vector: $0)
        }
        builder.abandon()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(schema)
        try await engine.put([NewObject(vector: [Float](repeating: 1, count: 64))], collection: "c")
        try await engine.flush()
        await engine.close()
        let folder = directory.appending("db/segments/c/_default")
        let leftover = folder + "/00000000000000cc.seg" + SegmentFormat.spillSuffix
        let stranger = folder + "/notes.spill"
        try LocalFileSystem().writeNewFile(leftover, [1, 2, 3])
        try LocalFileSystem().writeNewFile(stranger, [1, 2, 3])
        let reopened = try await Engine.open(at: directory.appending("db"))
        #expect(!FileManager.default.fileExists(atPath: leftover))
        #expect(FileManager.default.fileExists(atPath: stranger), "a file Cairn did not name is left alone")
        #expect(try reopened.count(collection: "c") == 1)
        await reopened.close()
    }
}
