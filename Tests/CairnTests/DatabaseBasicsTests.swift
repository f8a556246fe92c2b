import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("Database basics")
struct DatabaseBasicsTests {
    @Test("a search returns only the parts of each object asked for, with the same hits", arguments: [false, true])
    func searchFields(flushed: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let objects = SampleData.objects(count: 400, dimensions: 16, seed: 2)
        let db = try await Database.open(at: directory.appending("db"))
        try await db.createCollection(SampleData.schema(dimensions: 16))
        try await db.put(objects, into: "articles")
        if flushed { try await db.flush() } // hits from a segment, not a memtable
        let query = objects[17].vector
        let full = try db.search(query, in: "articles", limit: 10)
        let bare = try db.search(query, in: "articles", limit: 10, fields: [])
        let some = try db.search(query, in: "articles", limit: 10, fields: [.properties])
        #expect(bare.map(\.object.id) == full.map(\.object.id) && bare.map(\.distance) == full.map(\.distance))
        #expect(full[0].object.id == objects[17].id && !full[0].object.properties.isEmpty && full[0].object.vector == objects[17].vector)
        #expect(bare.allSatisfy { $0.object.properties.isEmpty && $0.object.vector.isEmpty && $0.object.createdAtMilliseconds == 0 })
        #expect(some.map(\.object.properties) == full.map(\.object.properties) && some.allSatisfy { $0.object.vector.isEmpty })
        await db.close()
    }

    @Test("objects written are read back, across flush, compaction and reopen")
    func roundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let objects = SampleData.objects(count: 500, dimensions: 16, seed: 1)
        var options = EngineOptions()
        options.compactionSegmentCount = 3
        do {
            let db = try await Database.open(at: directory.path, options: options)
            try await db.createCollection(SampleData.schema(dimensions: 16, metric: .l2))
            for (index, chunk) in stride(from: 0, to: 500, by: 100).enumerated() {
                try await db.put(Array(objects[chunk..<chunk + 100]), into: "articles")
                if index % 2 == 1 { try await db.flush() }
            }
            try await db.delete([objects[0].id], from: "articles")
            #expect(try db.count("articles") == 499)
            #expect(try db.get(objects[0].id, from: "articles") == nil)
            #expect(try db.get(objects[1].id, from: "articles")?.vector == objects[1].vector)
            try await db.flush()
            try await db.compact()
            #expect(try db.count("articles") == 499)
            await db.close()
        }
        let db = try await Database.open(at: directory.path, options: options)
        #expect(try db.count("articles") == 499)
        #expect(try db.get(objects[0].id, from: "articles") == nil)
        for object in objects.dropFirst() {
            let stored = try #require(try db.get(object.id, from: "articles"))
            #expect(stored.vector == object.vector)
            #expect(stored.properties == object.properties)
        }
        let hits = try db.search(objects[42].vector, in: "articles", limit: 3)
        #expect(hits.first?.object.id == objects[42].id)
        await db.close()
    }
}
