@testable import CairnEngine
import Cairn
import CairnTestSupport
import Foundation
import Testing

/// What you put is what you get back: every metric returns each vector exactly as written, from
/// the memtable, a segment, a compacted segment and after a restart, and search still ranks by
/// the metric.
@Suite("Vectors round-trip exactly")
struct VectorRoundTripTests {
    static let written: [Float] = [0.1, 3, -4.5, 1e-7]

    @Test("get and scroll return the vector as written, wherever it lives", arguments: DistanceMetric.allCases)
    func exactVectors(metric: DistanceMetric) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 42)
        let objects = [NewObject(properties: [:], vector: Self.written)]
            + (0..<3000).map { _ in NewObject(properties: [:], vector: generator.vector(4).map { $0 * 37 }) }
        let expected = Dictionary(uniqueKeysWithValues: objects.map { ($0.id, $0.vector) })
        let schema = CollectionSchema(name: "v", dimensions: 4, metric: metric)
        func check(_ db: Database, _ stage: String, count: Int = objects.count) throws {
            #expect(try db.get(objects[0].id, from: "v")?.vector == Self.written, "\(stage)")
            var seen = 0
            var cursor: UUID?
            while true {
                let page = try db.scroll("v", after: cursor, limit: 1000)
                guard let last = page.last else { break }
                for object in page where object.vector != expected[object.id] { Issue.record("\(stage): \(object.id) changed") }
                seen += page.count
                cursor = last.id
            }
            #expect(seen == count, "\(stage)")
        }
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(schema)
            try await db.put(Array(objects[..<1500]), into: "v")
            try check(db, "memtable", count: 1500)
            try await db.flush()
            try await db.put(Array(objects[1500...]), into: "v")
            try await db.flush()
            try check(db, "segments")
            try await db.compact()
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        try check(db, "after compaction and a restart")
        await db.close()
    }

    @Test("cosine search over vectors of any length ranks by the angle", arguments: [false, true])
    func cosineRanking(flushed: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 7)
        // Lengths from 0.001 to 1000: the ranking must not depend on them.
        let objects = (0..<3000).map { index in
            NewObject(properties: [:], vector: generator.vector(16).map { $0 * Float(pow(10, Double(index % 7) - 3)) })
        }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(CollectionSchema(name: "v", dimensions: 16, metric: .cosine))
        try await db.put(objects, into: "v")
        if flushed { try await db.flush() } else { try await db.finishIndexing() }
        func cosineDistance(_ a: [Float], _ b: [Float]) -> Double {
            var dot = 0.0, na = 0.0, nb = 0.0
            for (x, y) in zip(a, b) { dot += Double(x) * Double(y); na += Double(x) * Double(x); nb += Double(y) * Double(y) }
            return 1 - dot / (na.squareRoot() * nb.squareRoot())
        }
        var hitsAtTen = 0
        for probe in 0..<50 {
            let query = objects[probe * 37].vector.map { $0 * 3 }
            let expected = objects.map { ($0.id, cosineDistance(query, $0.vector)) }.sorted { $0.1 < $1.1 }.prefix(10)
            let hits = try db.search(query, in: "v", limit: 10, ef: 200)
            hitsAtTen += Set(hits.map(\.object.id)).intersection(expected.map(\.0)).count
            for hit in hits {
                let reference = cosineDistance(query, hit.object.vector)
                #expect(abs(Double(hit.distance) - reference) < 1e-5)
            }
        }
        #expect(hitsAtTen >= 490, "recall@10 \(Double(hitsAtTen) / 500)")
        await db.close()
    }

    @Test("vectors a 32-bit float cannot hold are refused, saying why")
    func unrepresentable() async throws {
        #expect {
            _ = try ObjectJSON.vector(from: [.double(1), .double(1e-50)])
        } throws: { "\($0)".contains("component 1") && "\($0)".contains("smallest normal") }
        #expect {
            _ = try ObjectJSON.vector(from: [.double(1e39)])
        } throws: { "\($0)".contains("range of a 32-bit float") }
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(CollectionSchema(name: "v", dimensions: 2, metric: .cosine))
        await #expect {
            try await db.put([NewObject(vector: [3.4e38, 3.4e38])], into: "v")
        } throws: { "\($0)".contains("length") && !"\($0)".contains("zero") }
        await #expect {
            try await db.put([NewObject(vector: [0, 0])], into: "v")
        } throws: { "\($0)".contains("zero vector") }
        await db.close()
    }

    @Test("JSON prints each float as the shortest decimal that reads back as the same float")
    func shortestDecimals() throws {
        let object = StoredObject(id: UUID(), properties: [:], vector: Self.written, createdAtMilliseconds: 0, updatedAtMilliseconds: 0)
        let text = String(decoding: try JSONEncoder().encode(ObjectJSON.json(of: object)), as: UTF8.self)
        #expect(text.contains("[0.1,3,-4.5,1e-07]"), "\(text)")
        let parsed = try JSONParser.parse(Array(text.utf8))
        guard case let .object(fields) = parsed, case let .array(values)? = fields["vector"] else { Issue.record("no vector"); return }
        #expect(try ObjectJSON.vector(from: values) == Self.written)
    }
}
