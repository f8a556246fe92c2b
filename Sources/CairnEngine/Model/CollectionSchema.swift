import CairnVector

/// One typed property of a collection.
public struct PropertyDefinition: Sendable, Hashable, Codable {
    /// The property's name, unique within the collection.
    public var name: String
    /// The values the property holds.
    public var type: PropertyType
    /// Whether the property has an inverted index, so filters can use it.
    public var indexed: Bool

    /// A property named `name` of `type`, with an inverted index unless `indexed` is false.
    public init(name: String, type: PropertyType, indexed: Bool = true) {
        self.name = name
        self.type = type
        self.indexed = indexed
    }
}

/// A collection's schema: its typed properties, its vector configuration and the opaque
/// ingestion configuration that says how its vectors are made.
public struct CollectionSchema: Sendable, Hashable, Codable {
    /// The collection's name, unique in the database (aliases are separate).
    public var name: String
    /// The number of dimensions every vector must have.
    public var dimensions: Int
    /// How vectors are compared (cosine, dot product or L2).
    public var metric: DistanceMetric
    /// The properties objects may have; any other is refused.
    public var properties: [PropertyDefinition]
    /// Whether objects live in named tenants, each an isolated partition.
    public var multiTenant: Bool
    /// How vectors are made (embedding model, source fields…): kept and restored, never interpreted.
    public var ingestion: JSONValue?
    /// The HNSW settings of the collection's vector index.
    public var hnsw: HNSWParameters
    /// How segments code vectors for the graph walk (nil: the walk compares full vectors).
    public var quantization: VectorQuantization?
    /// Files and directories (absolute paths) the objects were made from: a backup stores
    /// their content with the collection. Nil or empty: none declared.
    public var sources: [String]?
    /// The LSN that created this collection: tells a dropped-and-recreated collection from the old one.
    public internal(set) var createdLSN: UInt64

    /// A collection's schema: its name, vector dimensions and metric, properties, tenancy, ingestion configuration, graph settings and quantization.
    public init(name: String, dimensions: Int, metric: DistanceMetric = .cosine, properties: [PropertyDefinition] = [],
                multiTenant: Bool = false, ingestion: JSONValue? = nil, hnsw: HNSWParameters = HNSWParameters(), quantization: VectorQuantization? = nil, sources: [String] = []) {
        self.name = name
        self.dimensions = dimensions
        self.metric = metric
        self.properties = properties
        self.multiTenant = multiTenant
        self.ingestion = ingestion
        self.hnsw = hnsw
        self.quantization = quantization
        self.sources = sources.isEmpty ? nil : sources
        self.createdLSN = 0
    }

    /// The property named `name`, if the schema has one.
    public func property(named name: String) -> PropertyDefinition? {
        properties.first { $0.name == name }
    }

    /// Checks the schema itself: names, dimensions, unique properties.
    public func validate() throws {
        try Naming.check(name, kind: "collection")
        guard (1...65_536).contains(dimensions) else {
            throw CairnError.invalidSchema("dimensions must be between 1 and 65536, got \(dimensions)")
        }
        guard (2...128).contains(hnsw.M) else { throw CairnError.invalidSchema("M must be between 2 and 128, got \(hnsw.M)") }
        guard (1...4096).contains(hnsw.efConstruction), (1...4096).contains(hnsw.efSearch) else {
            throw CairnError.invalidSchema("efConstruction and efSearch must be between 1 and 4096")
        }
        try Self.validate(sources: sources ?? [])
        var seen = Set<String>()
        for property in properties {
            try Naming.check(property.name, kind: "property")
            guard seen.insert(property.name).inserted else {
                throw CairnError.invalidSchema("property '\(property.name)' is declared twice")
            }
        }
    }
}

extension CollectionSchema {
    /// Checks source paths: absolute, at most 4096 bytes, no NUL, `.` or `..` component, none twice.
    static func validate(sources: [String]) throws {
        for path in sources {
            let components = path.split(separator: "/", omittingEmptySubsequences: true)
            guard path.hasPrefix("/"), path.utf8.count <= 4096, !path.contains("\0"), !components.contains(where: { $0 == "." || $0 == ".." }) else {
                throw CairnError.invalidSchema("source '\(path)' must be an absolute path without '.' or '..' components")
            }
        }
        if let twice = Dictionary(grouping: sources, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw CairnError.invalidSchema("source '\(twice)' is declared twice")
        }
    }

    /// Words of the filter language, which a property cannot be named (it could not be filtered on).
    public static let filterKeywords: Set<String> = ["and", "or", "not", "in", "true", "false"]
}

/// The rules for collection, tenant, alias, property, role and user names: they become file and
/// directory names, so they are short and plain.
public enum Naming {
    /// Throws unless `name` is 1–64 characters of letters, digits, `_` and `-`, starting with a letter.
    public static func check(_ name: String, kind: String) throws {
        guard !name.isEmpty, name.count <= 64 else {
            throw CairnError.invalidName(kind: kind, name: name, reason: "must be 1 to 64 characters long")
        }
        guard let first = name.unicodeScalars.first, first.properties.isAlphabetic, first.isASCII else {
            throw CairnError.invalidName(kind: kind, name: name, reason: "must start with a letter")
        }
        for scalar in name.unicodeScalars where !(scalar.isASCII && (scalar.properties.isAlphabetic
            || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-")) {
            throw CairnError.invalidName(kind: kind, name: name, reason: "may hold only letters, digits, '_' and '-'")
        }
    }
}
