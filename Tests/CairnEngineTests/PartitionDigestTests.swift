@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Partition digests")
struct PartitionDigestTests {
    /// A partition with rows in compacted and flushed segments, overwritten and deleted rows,
    /// and writes only in the memtable.
    private static func populate(_ engine: Engine, generator: inout SeededGenerator) async throws -> [UUID] {
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 8, metric: .cosine,
                                                           properties: [PropertyDefinition(name: "n", type: PropertyType(.int))]))
        var ids: [UUID] = []
        for round in 0..<3 {
            let batch = (0..<600).map { index in NewObject(properties: ["n": .int(Int64(round * 1000 + index))], vector: generator.vector(8)) }
            ids += batch.map(\.id)
            try await engine.put(batch, collection: "c")
            try await engine.flush()
        }
        try await engine.compact()
        try await engine.put(ids[100..<150].map { NewObject(id: $0, properties: ["n": .int(-1)], vector: generator.vector(8)) }, collection: "c")
        try await engine.delete(Array(ids[900..<960]), collection: "c")
        try await engine.flush()
        try await engine.put(ids[1500..<1520].map { NewObject(id: $0, vector: generator.vector(8)) }, collection: "c")
        try await engine.delete(Array(ids[10..<15]), collection: "c")
        try await engine.put((0..<30).map { _ in NewObject(properties: ["n": .int(7)], vector: generator.vector(8)) }, collection: "c")
        return ids
    }

    @Test("the fingerprint kept per segment, less dead rows, plus the memtable equals the fingerprint read row by row")
    func storedSumsMatchRowByRow() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 71)
        let engine = try await Engine.open(at: directory.appending("db"))
        _ = try await Self.populate(engine, generator: &generator)
        let atPoint = try await engine.withRecoveryPoint { $0.digests[PartitionKey(collection: "c", tenant: PartitionKey.defaultTenant)]! }
        #expect(atPoint.objects == 1800 - 60 - 5 + 30)
        #expect(atPoint.goldenQueries.count == 2 && atPoint.goldenQueries.allSatisfy { $0.hits.count == 10 })
        let rowByRow = try engine.digest(collection: "c", goldenQueries: atPoint.goldenQueries.map(\.queryObject))
        #expect(rowByRow == atPoint)
        // The same after reopening (the memtable rebuilt from the WAL).
        await engine.close()
        let reopened = try await Engine.open(at: directory.appending("db"))
        #expect(try reopened.digest(collection: "c", goldenQueries: atPoint.goldenQueries.map(\.queryObject)) == atPoint)
        await reopened.close()
    }

    @Test("changing one property, one vector component or deleting one object changes the fingerprint")
    func fingerprintSeesEveryChange() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 72)
        let engine = try await Engine.open(at: directory.appending("db"))
        let ids = try await Self.populate(engine, generator: &generator)
        func fingerprint() throws -> ContentFingerprint { try engine.digest(collection: "c", goldenQueries: []).fingerprint }
        var seen = [try fingerprint()]
        let original = try #require(try engine.get(ids[400], collection: "c"))
        try await engine.put([NewObject(id: original.id, properties: ["n": .int(401)], vector: original.vector)], collection: "c")
        seen.append(try fingerprint())
        var nudged = original.vector
        nudged[3] = nudged[3].nextUp
        try await engine.put([NewObject(id: original.id, properties: original.properties, vector: nudged)], collection: "c")
        seen.append(try fingerprint())
        try await engine.put([NewObject(id: original.id, properties: original.properties, vector: original.vector)], collection: "c")
        #expect(try fingerprint() == seen[0], "the fingerprint depends on the content only, not on how it got there")
        try await engine.delete([ids[401]], collection: "c")
        seen.append(try fingerprint())
        #expect(Set(seen).count == seen.count)
        await engine.close()
    }

    @Test("a golden query's answer is matched up to ties at the last distance, and nothing looser")
    func goldenQueryMatching() {
        let ids = (0..<4).map { _ in UUID() }
        let query = GoldenQuery(queryObject: ids[0], hits: [.init(id: ids[0], distance: 0), .init(id: ids[1], distance: 1), .init(id: ids[2], distance: 2)])
        #expect(query.isAnswered(by: query.hits))
        #expect(query.isAnswered(by: [.init(id: ids[0], distance: 0), .init(id: ids[1], distance: 1), .init(id: ids[3], distance: 2)]))
        #expect(!query.isAnswered(by: [.init(id: ids[0], distance: 0), .init(id: ids[3], distance: 1), .init(id: ids[2], distance: 2)]))
        #expect(!query.isAnswered(by: [.init(id: ids[0], distance: 0), .init(id: ids[1], distance: 1.5), .init(id: ids[2], distance: 2)]))
        #expect(!query.isAnswered(by: Array(query.hits.prefix(2))))
    }
}
