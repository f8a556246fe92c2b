/// A comparison in a filter.
public enum ComparisonOperator: String, Sendable, Hashable, CaseIterable {
    case equal = "="
    case notEqual = "!="
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
}

/// A condition on an object's properties, evaluated through the inverted indexes.
///
/// On an array property a comparison holds when any element satisfies it. `a != v` means
/// `not (a = v)`, so it also holds for objects that lack `a`; every other comparison is false
/// for a missing property.
public indirect enum Filter: Sendable, Hashable {
    case compare(String, ComparisonOperator, PropertyValue)
    /// The property equals one of the values.
    case isIn(String, [PropertyValue])
    case and([Filter])
    case or([Filter])
    case not(Filter)
}

/// A filter checked against a schema, with values turned into index keys.
indirect enum BoundFilter: Sendable, Hashable {
    case compare(String, ComparisonOperator, IndexKey)
    case isIn(String, Set<IndexKey>)
    case and([BoundFilter])
    case or([BoundFilter])
    case not(BoundFilter)

    init(_ filter: Filter, schema: CollectionSchema) throws {
        func indexedProperty(_ name: String) throws -> PropertyDefinition {
            guard let definition = schema.property(named: name) else {
                throw CairnError.unknownProperty(collection: schema.name, property: name)
            }
            guard definition.indexed else {
                throw CairnError.invalidFilter(message: "property '\(name)' is not indexed", position: 0)
            }
            return definition
        }
        func checkedKey(_ definition: PropertyDefinition, _ value: PropertyValue) throws -> IndexKey {
            try PropertyDefinition(name: definition.name, type: PropertyType(definition.type.scalar)).check(value)
            return IndexKey(value)
        }
        switch filter {
        case let .compare(name, op, value):
            let definition = try indexedProperty(name)
            self = .compare(name, op, try checkedKey(definition, value))
        case let .isIn(name, values):
            let definition = try indexedProperty(name)
            self = .isIn(name, Set(try values.map { try checkedKey(definition, $0) }))
        case let .and(filters): self = .and(try filters.map { try BoundFilter($0, schema: schema) })
        case let .or(filters): self = .or(try filters.map { try BoundFilter($0, schema: schema) })
        case let .not(inner): self = .not(try BoundFilter(inner, schema: schema))
        }
    }

    /// Evaluates the filter on one object's properties (the memtable's path; segments use their index).
    func matches(_ properties: [String: PropertyValue]) -> Bool {
        matches { properties[$0] }
    }

    /// Evaluates the filter on one object whose property named `name` is `property(name)`.
    func matches(_ property: (String) -> PropertyValue?) -> Bool {
        switch self {
        case let .compare(name, op, key):
            guard let value = property(name) else { return op == .notEqual }
            if op == .notEqual { return !value.elements.contains { IndexKey($0) == key } }
            return value.elements.contains { op.holds(IndexKey($0), key) }
        case let .isIn(name, keys):
            guard let value = property(name) else { return false }
            return value.elements.contains { keys.contains(IndexKey($0)) }
        case let .and(filters): return filters.allSatisfy { $0.matches(property) }
        case let .or(filters): return filters.contains { $0.matches(property) }
        case let .not(inner): return !inner.matches(property)
        }
    }
}

extension ComparisonOperator {
    /// Whether `value op bound` holds (`!=` is handled as `not =` by callers).
    func holds(_ value: IndexKey, _ bound: IndexKey) -> Bool {
        switch self {
        case .equal: return value == bound
        case .notEqual: return value != bound
        case .less: return value < bound
        case .lessOrEqual: return !(bound < value)
        case .greater: return bound < value
        case .greaterOrEqual: return !(value < bound)
        }
    }
}
