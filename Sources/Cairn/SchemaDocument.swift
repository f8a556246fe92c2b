import Foundation

/// A collection's definition as a portable JSON document: what `cairn export --schema` prints
/// and `cairn collection create --from-schema` reads. It holds everything that defines the
/// collection (properties, metric, index parameters, tenancy, ingestion configuration, sources)
/// and nothing of one database's history.
public struct SchemaDocument: Codable, Sendable, Hashable {
    /// The version of this document's format.
    public static let currentFormat = 1

    public var cairnSchema: Int
    public var name: String
    public var dimensions: Int
    public var metric: DistanceMetric
    public var properties: [PropertyDefinition]
    public var multiTenant: Bool
    public var ingestion: JSONValue?
    public var hnsw: HNSWParameters
    /// Absent: the graph walk compares full vectors.
    public var quantization: VectorQuantization?
    public var sources: [String]?

    /// The document of `schema`.
    public init(_ schema: CollectionSchema) {
        cairnSchema = Self.currentFormat
        name = schema.name
        dimensions = schema.dimensions
        metric = schema.metric
        properties = schema.properties
        multiTenant = schema.multiTenant
        ingestion = schema.ingestion
        hnsw = schema.hnsw
        quantization = schema.quantization
        sources = schema.sources
    }

    /// The schema the document defines, named `name` (the document's name when nil).
    public func schema(named name: String? = nil) -> CollectionSchema {
        CollectionSchema(name: name ?? self.name, dimensions: dimensions, metric: metric, properties: properties,
                         multiTenant: multiTenant, ingestion: ingestion, hnsw: hnsw,
                         quantization: quantization, sources: sources ?? [])
    }

    /// The document as pretty-printed JSON with sorted keys, ending in a newline.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }

    /// Reads a document, saying what is wrong with one that does not read (naming `source`).
    public static func decode(_ data: Data, source: String) throws -> SchemaDocument {
        let document: SchemaDocument
        do { document = try JSONDecoder().decode(SchemaDocument.self, from: data) } catch let error as DecodingError {
            throw CairnError.invalidArgument("\(source) is not a collection schema: \(Self.describe(error))")
        }
        guard document.cairnSchema == currentFormat else {
            throw CairnError.invalidArgument("\(source) is a schema of format \(document.cairnSchema); this Cairn reads format \(currentFormat)")
        }
        return document
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.isEmpty ? "the document" : context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "\(path(context)) has no \"\(key.stringValue)\""
        case let .typeMismatch(_, context), let .valueNotFound(_, context): return "\(path(context)): \(context.debugDescription)"
        case let .dataCorrupted(context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
