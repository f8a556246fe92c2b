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

    @Test("an export is the partition as of its start, in id order, while writes, deletes, flushes and compactions continue")
    func exportIsConsistent() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 92)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 4, metric: .l2, properties: [
            PropertyDefinition(name: "n", type: PropertyType(.int))]))
        var live: [UUID: (vector: [Float], n: Int64)] = [:]
        for round in 0..<3 {
            let objects = (0..<900).map { index in NewObject(properties: ["n": .int(Int64(round * 1000 + index))], vector: generator.vector(4)) }
            try await engine.put(objects, collection: "c")
            for object in objects { live[object.id] = (object.vector, Self.number(object.properties["n"])) }
            if round < 2 { try await engine.flush() }
        }
        let ids = Array(live.keys).sorted { UUIDOrder($0) < UUIDOrder($1) }
        try await engine.delete(Array(ids[0..<100]), collection: "c")
        for id in ids[0..<100] { live[id] = nil }
        let export = try engine.export(collection: "c")
        let filtered = try engine.export(collection: "c", filter: .compare("n", .greaterOrEqual, .int(2000)))
        // After the export began: overwrites, deletes, new objects, a flush and a compaction.
        try await engine.put(ids[200..<400].map { NewObject(id: $0, properties: ["n": .int(-1)], vector: [9, 9, 9, 9]) }, collection: "c")
        try await engine.delete(Array(ids[400..<500]), collection: "c")
        try await engine.put((0..<50).map { _ in NewObject(vector: generator.vector(4)) }, collection: "c")
        try await engine.flush()
        try await engine.compact()

        var seen: [UUID] = []
        try export.forEach { object in
            seen.append(object.id)
            #expect(object.vector == live[object.id]?.vector, "the version as of the export's start")
        }
        #expect(export.count == live.count && seen.count == live.count && Set(seen) == Set(live.keys))
        #expect(zip(seen, seen.dropFirst()).allSatisfy { UUIDOrder($0) < UUIDOrder($1) }, "strictly in id order")
        var allowed = 0
        try filtered.forEach { object in
            allowed += 1
            #expect(Self.number(object.properties["n"]) >= 2000)
        }
        #expect(allowed == live.values.filter { $0.n >= 2000 }.count)
        await engine.close()
    }

    private static func number(_ value: PropertyValue?) -> Int64 {
        if case let .int(number)? = value { return number }
        return Int64.min
    }
}
