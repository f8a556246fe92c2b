import Foundation

/// The JSON form of objects, as in JSONL imports and the HTTP API:
/// `{"id": "<uuid>", "properties": {...}, "vector": [0.1, ...]}` (`id` optional).
public enum ObjectJSON {
    /// Builds an object from its JSON form, typing the properties by the schema. `createdAt`
    /// and `updatedAt` (as `cairn export --with-metadata` writes them) are accepted and
    /// ignored: a write gets the time it is made.
    public static func object(from json: JSONValue, schema: CollectionSchema) throws -> NewObject {
        guard case let .object(fields) = json else {
            throw CairnError.invalidArgument("expected a JSON object with id, properties and vector, got \(json.typeName)")
        }
        if let unknown = fields.keys.sorted().first(where: { !["id", "properties", "vector", "createdAt", "updatedAt"].contains($0) }) {
            throw CairnError.invalidArgument("unknown field '\(unknown)' (expected id, properties, vector)")
        }
        var id = UUID()
        switch fields["id"] {
        case nil, .null?: break
        case let .string(text)?:
            guard let parsed = UUID(uuidString: text) else { throw CairnError.invalidArgument("id '\(text)' is not a UUID") }
            id = parsed
        case let other?: throw CairnError.invalidArgument("id must be a UUID string, got \(other.typeName)")
        }
        guard case let .array(components)? = fields["vector"] else {
            throw CairnError.invalidVector("the object needs a \"vector\" array of numbers")
        }
        let vector = try self.vector(from: components)
        var properties: [String: PropertyValue] = [:]
        switch fields["properties"] {
        case nil, .null?: break
        case let .object(values)?:
            for (name, value) in values {
                if case .null = value { continue }
                guard let definition = schema.property(named: name) else {
                    throw CairnError.unknownProperty(collection: schema.name, property: name)
                }
                properties[name] = try definition.value(from: value)
            }
        case let other?: throw CairnError.invalidArgument("properties must be an object, got \(other.typeName)")
        }
        return NewObject(id: id, properties: properties, vector: vector)
    }

    /// A vector from JSON numbers, each of which must be a 32-bit float: a number beyond its
    /// range, or one so small it would silently become 0 or lose precision (subnormal), is an
    /// error naming the component rather than a different vector.
    public static func vector(from components: [JSONValue]) throws -> [Float] {
        try components.enumerated().map { index, component -> Float in
            let number: Double
            switch component {
            case let .double(value): number = value
            case let .int(value): number = Double(value)
            default: throw CairnError.invalidVector("component \(index) is \(component.typeName), not a number")
            }
            let float = Float(number)
            if !float.isFinite {
                throw CairnError.invalidVector("component \(index) (\(number)) is beyond the range of a 32-bit float (±3.4e38)")
            }
            if number != 0 && !float.isNormal {
                throw CairnError.invalidVector("component \(index) (\(number)) is below the smallest normal 32-bit float (1.2e-38); use 0 or a larger value")
            }
            return float
        }
    }

    /// The JSON form of a stored object (with its timestamps).
    public static func json(of object: StoredObject) -> JSONValue {
        guard case var .object(fields) = importable(object) else { preconditionFailure("importable(_:) returns an object") }
        fields["createdAt"] = .string(DateCoding.format(milliseconds: object.createdAtMilliseconds))
        fields["updatedAt"] = .string(DateCoding.format(milliseconds: object.updatedAtMilliseconds))
        return .object(fields)
    }

    /// The JSON form of a stored object that `object(from:schema:)` (and `cairn import`) reads
    /// back: id, properties and vector, without timestamps.
    public static func importable(_ object: StoredObject) -> JSONValue {
        .object([
            "id": .string(object.id.uuidString.lowercased()),
            "properties": .object(object.properties.mapValues(\.json)),
            "vector": .array(object.vector.map(JSONValue.float)),
        ])
    }
}
