import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("Collections, tenants and aliases over time")
struct CatalogLifecycleTests {
    @Test("a dropped and recreated collection never shows the old objects, before or after reopen")
    func dropAndRecreate() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let old = SampleData.objects(count: 50, dimensions: 4, seed: 1)
        let new = SampleData.objects(count: 5, dimensions: 4, seed: 2)
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(SampleData.schema(dimensions: 4))
            try await db.put(old, into: "articles")
            try await db.flush()
            try await db.setAlias("current", to: "articles")
            try await db.dropCollection("current")
            #expect(db.aliases().isEmpty)
            try await db.createCollection(SampleData.schema(dimensions: 4))
            try await db.put(new, into: "articles")
            #expect(try db.count("articles") == 5)
            #expect(try db.get(old[0].id, from: "articles") == nil)
            await db.close()
        }
        do {
            let db = try await Database.open(at: directory.path)
            #expect(try db.count("articles") == 5)
            try await db.flush()
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        #expect(try db.count("articles") == 5)
        #expect(try db.get(old[0].id, from: "articles") == nil)
        #expect(db.stats().segments == 1)
        await db.close()
    }

    @Test("an inactive tenant keeps its files, is refused while inactive, and comes back when activated")
    func inactiveTenant() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let objects = SampleData.objects(count: 40, dimensions: 4, seed: 3)
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(SampleData.schema(dimensions: 4, metric: .l2, multiTenant: true))
            try await db.addTenant("acme", to: "articles")
            try await db.addTenant("globex", to: "articles")
            try await db.put(Array(objects[0..<20]), into: "articles", tenant: "acme")
            try await db.flush()
            try await db.put(Array(objects[20..<40]), into: "articles", tenant: "acme")
            try await db.put(Array(objects[0..<3]), into: "articles", tenant: "globex")
            try await db.setTenantState("acme", of: "articles", to: .inactive)
            await #expect(throws: CairnError.tenantInactive(collection: "articles", tenant: "acme")) {
                try await db.put(objects[0], into: "articles", tenant: "acme")
            }
            try await db.flush()
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        #expect(throws: CairnError.tenantInactive(collection: "articles", tenant: "acme")) { try db.count("articles", tenant: "acme") }
        #expect(try db.count("articles", tenant: "globex") == 3)
        try await db.setTenantState("acme", of: "articles", to: .active)
        #expect(try db.count("articles", tenant: "acme") == 40)
        #expect(try db.get(objects[25].id, from: "articles", tenant: "acme")?.vector == objects[25].vector)
        try await db.removeTenant("globex", from: "articles")
        #expect(throws: CairnError.tenantNotFound(collection: "articles", tenant: "globex")) { try db.count("articles", tenant: "globex") }
        await db.close()
    }

    @Test("overwriting keeps the creation time and updates the rest")
    func overwriteKeepsCreatedAt() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(SampleData.schema(dimensions: 2, metric: .l2))
        let id = UUID()
        try await db.put(NewObject(id: id, properties: ["year": .int(1)], vector: [1, 2]), into: "articles")
        try await db.flush()
        let first = try #require(try db.get(id, from: "articles"))
        try await db.put(NewObject(id: id, properties: ["year": .int(2)], vector: [3, 4]), into: "articles")
        let second = try #require(try db.get(id, from: "articles"))
        #expect(second.createdAtMilliseconds == first.createdAtMilliseconds)
        #expect(second.updatedAtMilliseconds >= first.updatedAtMilliseconds)
        #expect(second.properties["year"] == .int(2))
        #expect(try db.count("articles") == 1)
        #expect(try db.search([3, 4], in: "articles", limit: 5).map(\.object.vector) == [[3, 4]])
        await db.close()
    }
}
