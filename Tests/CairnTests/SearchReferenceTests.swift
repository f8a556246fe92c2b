import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Flat search and filters compared with a brute-force reference on seeded random data spread
/// over segments, a frozen-then-flushed history, overwrites, deletes and the memtable.
@Suite("Search and filters against brute force")
struct SearchReferenceTests {
    static let dimensions = 16

    struct Reference {
        var objects: [UUID: NewObject] = [:]
    }

    static func schema(_ metric: DistanceMetric) -> CollectionSchema {
        CollectionSchema(name: "items", dimensions: dimensions, metric: metric, properties: [
            PropertyDefinition(name: "year", type: PropertyType(.int)),
            PropertyDefinition(name: "lang", type: PropertyType(.keyword)),
            PropertyDefinition(name: "score", type: PropertyType(.float)),
            PropertyDefinition(name: "flag", type: PropertyType(.bool)),
            PropertyDefinition(name: "tags", type: PropertyType(.keyword, isArray: true)),
            PropertyDefinition(name: "published", type: PropertyType(.date)),
        ])
    }

    static func makeObject(_ generator: inout SeededGenerator, id: UUID) -> NewObject {
        let languages = ["en", "de", "fr"]
        let colors = ["red", "green", "blue"]
        var properties: [String: PropertyValue] = [
            "year": .int(Int64(1995 + Int(generator.next() % 25))),
            "lang": .string(languages[Int(generator.next() % 3)]),
            "score": .float(Double(generator.nextFloat())),
            "flag": .bool(generator.next() % 2 == 0),
            "published": .date(Int64(1_600_000_000_000 + Int64(generator.next() % 100_000_000_000))),
        ]
        if generator.next() % 4 != 0 {
            properties["tags"] = .array((0..<Int(generator.next() % 3)).map { _ in .string(colors[Int(generator.next() % 3)]) })
        }
        if generator.next() % 10 == 0 { properties["lang"] = nil }
        return NewObject(id: id, properties: properties, vector: generator.vector(dimensions))
    }

    /// Filters and the reference predicates they must agree with.
    static let filters: [(String, @Sendable ([String: PropertyValue]) -> Bool)] = {
        @Sendable func int(_ p: [String: PropertyValue], _ k: String) -> Int64? { if case let .int(v)? = p[k] { return v }; return nil }
        @Sendable func string(_ p: [String: PropertyValue], _ k: String) -> String? { if case let .string(v)? = p[k] { return v }; return nil }
        @Sendable func float(_ p: [String: PropertyValue], _ k: String) -> Double? { if case let .float(v)? = p[k] { return v }; return nil }
        @Sendable func tags(_ p: [String: PropertyValue]) -> [String] {
            if case let .array(values)? = p["tags"] { return values.compactMap { if case let .string(s) = $0 { return s }; return nil } }
            return []
        }
        @Sendable func date(_ p: [String: PropertyValue]) -> Int64? { if case let .date(v)? = p["published"] { return v }; return nil }
        return [
            ("year >= 2010", { int($0, "year")! >= 2010 }),
            ("year < 2000 or lang = \"de\"", { int($0, "year")! < 2000 || string($0, "lang") == "de" }),
            ("lang in [\"en\", \"fr\"] and not year = 2005", { ["en", "fr"].contains(string($0, "lang") ?? "") && int($0, "year")! != 2005 }),
            ("lang != \"en\"", { string($0, "lang") != "en" }),
            ("tags = \"red\"", { tags($0).contains("red") }),
            ("score > 0.5 and flag = true", { float($0, "score")! > 0.5 && $0["flag"] == .bool(true) }),
            ("(year > 2000 and year <= 2010) or tags in [\"blue\"]", { (int($0, "year")! > 2000 && int($0, "year")! <= 2010) || tags($0).contains("blue") }),
            ("published >= \"2022-01-01T00:00:00Z\"", { date($0)! >= 1_640_995_200_000 }),
            ("year = 2001 and lang = \"fr\" and flag = false", { int($0, "year") == 2001 && string($0, "lang") == "fr" && $0["flag"] == .bool(false) }),
        ]
    }()

    static func distance(_ metric: DistanceMetric, _ a: [Float], _ b: [Float]) -> Float {
        func normalized(_ v: [Float]) -> [Float] {
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
        switch metric {
        case .l2: return zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        case .dot: return -zip(a, b).reduce(0) { $0 + $1.0 * $1.1 }
        case .cosine: return 1 - zip(normalized(a), normalized(b)).reduce(0) { $0 + $1.0 * $1.1 }
        }
    }

    @Test("top-k and counts match brute force, with and without filters", arguments: DistanceMetric.allCases)
    func matchesBruteForce(metric: DistanceMetric) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 3
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(Self.schema(metric))
        var generator = SeededGenerator(seed: 42)
        var reference = Reference()
        var ids: [UUID] = []
        for round in 0..<6 {
            var batch: [NewObject] = (0..<300).map { _ in Self.makeObject(&generator, id: generator.uuid()) }
            // Overwrite some earlier objects with new values.
            for _ in 0..<20 where !ids.isEmpty {
                let id = ids[Int(generator.next() % UInt64(ids.count))]
                if !batch.contains(where: { $0.id == id }) { batch.append(Self.makeObject(&generator, id: id)) }
            }
            try await db.put(batch, into: "items")
            for object in batch {
                if reference.objects[object.id] == nil { ids.append(object.id) }
                reference.objects[object.id] = object
            }
            let doomed = (0..<15).map { _ in ids[Int(generator.next() % UInt64(ids.count))] }
            try await db.delete(doomed, from: "items")
            for id in doomed { reference.objects[id] = nil }
            if round < 5 { try await db.flush() } // the last round stays in the memtable
        }
        #expect(try db.count("items") == reference.objects.count)
        let queries = (0..<8).map { _ in generator.vector(Self.dimensions) }
        for (text, predicate) in [("", { @Sendable (_: [String: PropertyValue]) in true })] + Self.filters {
            let filter = text.isEmpty ? nil : try db.parseFilter(text, for: "items")
            let allowed = reference.objects.values.filter { predicate($0.properties) }
            #expect(try db.count("items", filter: filter) == allowed.count, "count for \(text)")
            for query in queries {
                let expected = allowed.map { ($0.id, Self.distance(metric, query, $0.vector)) }
                    .sorted { $0.1 < $1.1 }.prefix(10)
                let hits = try db.search(query, in: "items", limit: 10, filter: filter)
                #expect(hits.map(\.object.id) == expected.map(\.0), "top 10 for '\(text)' (\(metric))")
                for (hit, reference) in zip(hits, expected) { #expect(abs(hit.distance - reference.1) < 1e-4) }
                for hit in hits { #expect(hit.object.properties == reference.objects[hit.object.id]?.properties) }
            }
        }
        await db.close()
    }
}
