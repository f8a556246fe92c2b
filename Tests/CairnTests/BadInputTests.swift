import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Every kind of bad input gets a typed error and changes nothing.
@Suite("Bad input")
struct BadInputTests {
    private func withDatabase(_ body: (Database) async throws -> Void) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(SampleData.schema(dimensions: 4))
        try await db.createCollection(SampleData.schema(name: "tenanted", dimensions: 4, multiTenant: true))
        try await db.addTenant("acme", to: "tenanted")
        try await body(db)
        await db.close()
    }

    private let good = NewObject(properties: ["year": .int(2020), "lang": .string("en")], vector: [1, 2, 3, 4])

    @Test("a batch with one invalid object is rejected whole, naming each invalid object")
    func batchIsAtomic() async throws {
        try await withDatabase { db in
            let wrongDimensions = NewObject(vector: [1, 2, 3])
            let notANumber = NewObject(vector: [1, .nan, 3, 4])
            let infinite = NewObject(vector: [1, 2, .infinity, 4])
            let zero = NewObject(vector: [0, 0, 0, 0])
            let unknownProperty = NewObject(properties: ["colour": .string("red")], vector: [1, 2, 3, 4])
            let wrongType = NewObject(properties: ["year": .string("2020")], vector: [1, 2, 3, 4])
            let batch = [good, wrongDimensions, notANumber, infinite, zero, unknownProperty, wrongType]
            await #expect {
                try await db.put(batch, into: "articles")
            } throws: { error in
                guard case let CairnError.batchRejected(errors) = error else { return false }
                return errors.map(\.index) == [1, 2, 3, 4, 5, 6]
                    && errors[0].error == .dimensionMismatch(expected: 4, actual: 3)
                    && errors[4].error == .unknownProperty(collection: "articles", property: "colour")
                    && errors[5].error == .typeMismatch(property: "year", expected: "int", actual: "a string")
            }
            let count = try db.count("articles")
            #expect(count == 0)
            #expect(try db.get(good.id, from: "articles") == nil)
        }
    }

    @Test("unknown collections, tenants and aliases, and misuse of tenants, are typed errors")
    func unknownNames() async throws {
        try await withDatabase { db in
            await #expect(throws: CairnError.collectionNotFound("nope")) { try await db.put(good, into: "nope") }
            #expect(throws: CairnError.collectionNotFound("nope")) { try db.search([1, 2, 3, 4], in: "nope") }
            await #expect(throws: CairnError.tenantNotFound(collection: "tenanted", tenant: "ghost")) {
                try await db.put(good, into: "tenanted", tenant: "ghost")
            }
            await #expect(throws: CairnError.tenantRequired(collection: "tenanted")) { try await db.put(good, into: "tenanted") }
            await #expect(throws: CairnError.tenantsNotEnabled(collection: "articles")) {
                try await db.put(good, into: "articles", tenant: "acme")
            }
            await #expect(throws: CairnError.aliasNotFound("none")) { try await db.removeAlias("none") }
            await #expect(throws: CairnError.collectionExists("articles")) {
                try await db.createCollection(SampleData.schema(dimensions: 8))
            }
            await #expect(throws: CairnError.nameTaken("articles")) { try await db.setAlias("articles", to: "tenanted") }
            await #expect(throws: CairnError.tenantExists(collection: "tenanted", tenant: "acme")) {
                try await db.addTenant("acme", to: "tenanted")
            }
            await #expect(throws: CairnError.self) { try await db.createCollection(CollectionSchema(name: "9lives", dimensions: 4)) }
            await #expect(throws: CairnError.invalidSchema("dimensions must be between 1 and 65536, got 0")) {
                try await db.createCollection(CollectionSchema(name: "empty", dimensions: 0))
            }
            #expect(db.collections().map(\.name) == ["articles", "tenanted"])
        }
    }

    @Test("search rejects wrong dimensions and non-finite queries")
    func badQueries() async throws {
        try await withDatabase { db in
            #expect(throws: CairnError.dimensionMismatch(expected: 4, actual: 2)) { try db.search([1, 2], in: "articles") }
            #expect(throws: CairnError.self) { try db.search([1, .nan, 3, 4], in: "articles") }
            #expect(throws: CairnError.self) { try db.search([1, 2, 3, 4], in: "articles", limit: 0) }
        }
    }

    @Test("filter syntax and type errors carry the column", arguments: [
        ("year >= ", 9),
        ("year >> 3", 7),
        ("colour = \"red\"", 1),
        ("lang = \"en\" and (year > 3", 26),
        ("year = \"soon\"", 8),
        ("lang = \"en", 8),
        ("year in [1, 2", 14),
        ("lang = \"en\" year = 3", 13),
        ("title $ 3", 7),
    ])
    func filterErrors(text: String, column: Int) async throws {
        try await withDatabase { db in
            #expect {
                try db.parseFilter(text, for: "articles")
            } throws: { error in
                guard case let CairnError.invalidFilter(_, position) = error else { return false }
                return position == column
            }
        }
    }

    @Test("an import stops at the first bad line, naming it, after committing only whole earlier batches")
    func importStopsAtBadLine() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let objects = SampleData.objects(count: 10, dimensions: 4, seed: 5)
        var lines = SampleData.jsonl(objects).split(separator: "\n").map(String.init)
        lines[6] = "{\"vector\": [1, 2, 3, 4], \"properties\": {\"year\": \"oops\"}}"
        lines[8] = "{not json"
        let file = directory.appending("data.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)

        try await withDatabase { db in
            await #expect(throws: CairnError.importStopped(line: 7, committed: 4,
                                                           reason: "property 'year' expects int, got a string")) {
                try await db.importJSONL(from: file, into: "articles", options: ImportOptions(batchSize: 4))
            }
            #expect(try db.count("articles") == 4)
            // When the file fits in one batch nothing is committed.
            let other = try await db.importJSONL(from: file, into: "articles", options: ImportOptions(dryRun: true))
            #expect(other.invalidLines == 2)
            #expect(other.errors.first == "line 7: property 'year' expects int, got a string")
            #expect(other.errors.last == "line 9: not valid JSON: expected a field name at byte 2")
            #expect(try db.count("articles") == 4)
            await #expect(throws: CairnError.importStopped(line: 7, committed: 0, reason: "property 'year' expects int, got a string")) {
                try await db.importJSONL(from: file, into: "tenanted", tenant: "acme")
            }
            #expect(try db.count("tenanted", tenant: "acme") == 0)
        }
    }
}
