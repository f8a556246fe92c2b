import Cairn
import Foundation

/// The data set tests, benchmarks and the quickstart use: "articles" with a title, a year and a
/// language, generated from a seed.
public enum SampleData {
    /// The languages sample objects are tagged with.
    public static let languages = ["en", "de", "fr", "es", "it"]

    /// The schema of the sample collection.
    public static func schema(name: String = "articles", dimensions: Int, metric: DistanceMetric = .cosine,
                              multiTenant: Bool = false) -> CollectionSchema {
        CollectionSchema(name: name, dimensions: dimensions, metric: metric, properties: [
            PropertyDefinition(name: "title", type: PropertyType(.text)),
            PropertyDefinition(name: "year", type: PropertyType(.int)),
            PropertyDefinition(name: "lang", type: PropertyType(.keyword)),
        ], multiTenant: multiTenant)
    }

    /// `count` objects with seeded ids, properties and vectors.
    public static func objects(count: Int, dimensions: Int, seed: UInt64) -> [NewObject] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            NewObject(id: generator.uuid(), properties: [
                "title": .string("Article \(index)"),
                "year": .int(Int64(1990 + Int(generator.next() % 35))),
                "lang": .string(languages[Int(generator.next() % UInt64(languages.count))]),
            ], vector: generator.vector(dimensions))
        }
    }

    /// One JSONL line per object, as `cairn import` reads them.
    public static func jsonl(_ objects: [NewObject]) -> String {
        objects.map { object in
            let properties = object.properties.keys.sorted().map { key -> String in
                switch object.properties[key]! {
                case let .string(text): return "\"\(key)\":\"\(text)\""
                case let .int(number): return "\"\(key)\":\(number)"
                default: return "\"\(key)\":\(object.properties[key]!.description)"
                }
            }.joined(separator: ",")
            let vector = object.vector.map { String($0) }.joined(separator: ",")
            return "{\"id\":\"\(object.id.uuidString.lowercased())\",\"properties\":{\(properties)},\"vector\":[\(vector)]}"
        }.joined(separator: "\n") + "\n"
    }
}
