@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Scroll")
struct ScrollTests {
    @Test("paging returns every live object once, in id order, across segments with dead rows and memtables", arguments: [1, 97, 5000])
    func pagesCoverTheLiveSet(limit: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 91)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 4, metric: .l2))
        var live: [UUID: [Float]] = [:]
        func put(_ objects: [NewObject]) async throws {
            try await engine.put(objects, collection: "c")
            for object in objects { live[object.id] = object.vector }
        }
        for _ in 0..<3 {
            try await put((0..<700).map { _ in NewObject(vector: generator.vector(4)) })
            try await engine.flush()
        }
        let ids = Array(live.keys).sorted { UUIDOrder($0) < UUIDOrder($1) }
        try await put(ids[0..<300].map { NewObject(id: $0, vector: generator.vector(4)) })
        try await engine.flush()
        try await engine.delete(Array(ids[500..<650]), collection: "c")
        for id in ids[500..<650] { live[id] = nil }
        try await put(ids[1000..<1100].map { NewObject(id: $0, vector: generator.vector(4)) })
        try await put((0..<50).map { _ in NewObject(vector: generator.vector(4)) })

        var seen: [UUID] = []
        var cursor: UUID?
        while true {
            let page = try engine.scroll(collection: "c", after: cursor, limit: limit)
            #expect(page.count <= limit)
            guard let last = page.last else { break }
            seen += page.map(\.id)
            for object in page { #expect(object.vector == live[object.id], "the newest version of \(object.id)") }
            cursor = last.id
        }
        #expect(seen.count == live.count && Set(seen) == Set(live.keys), "\(seen.count) of \(live.count)")
        #expect(zip(seen, seen.dropFirst()).allSatisfy { UUIDOrder($0) < UUIDOrder($1) }, "strictly in id order")
        await engine.close()
    }
}
