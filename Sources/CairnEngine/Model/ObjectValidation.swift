import CairnVector
import Foundation

extension CollectionSchema {
    /// Checks one object against the schema and returns the version to store: properties
    /// type-checked, the vector finite, of the right length, and usable by the metric (kept as given).
    func validated(_ object: NewObject, at time: Int64) throws -> ObjectVersion {
        let vector = try checkedVector(object.vector, isQuery: false)
        for (key, value) in object.properties {
            guard let definition = property(named: key) else {
                throw CairnError.unknownProperty(collection: name, property: key)
            }
            try definition.check(value)
        }
        return ObjectVersion(id: object.id, properties: object.properties, vector: vector, updatedAt: time)
    }
}

extension CollectionSchema {
    /// Checks a stored or query vector: the collection's length, finite values, and for cosine
    /// a direction whose norm 32-bit arithmetic can handle. A stored vector is returned exactly
    /// as given (what you put is what you get back); a query is returned normalised for cosine.
    func checkedVector(_ vector: [Float], isQuery: Bool) throws -> [Float] {
        let role = isQuery ? "query" : "vector"
        guard vector.count == dimensions else {
            throw CairnError.dimensionMismatch(expected: dimensions, actual: vector.count)
        }
        if !vector.withUnsafeBufferPointer(VectorKernels.allFinite), let bad = vector.firstIndex(where: { !$0.isFinite }) {
            throw CairnError.invalidVector("component \(bad) is \(vector[bad]) (NaN and infinity are not allowed)")
        }
        guard metric.normalizesVectors else { return vector }
        let scale = vector.withUnsafeBufferPointer { metric.scale(of: $0) }
        if scale == 0 { throw CairnError.invalidVector("a zero \(role) has no direction (metric cosine)") }
        guard scale.isNormal && scale.isFinite else {
            let norm = vector.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            throw CairnError.invalidVector("the \(role)'s length (\(norm)) is out of the range cosine similarity handles in 32-bit floats"
                                           + " (1e-38 to 1e38); scale the \(role)")
        }
        guard isQuery else { return vector }
        return vector.map { $0 * scale }
    }
}

extension PropertyDefinition {
    /// Throws `typeMismatch` unless `value` fits this property's type.
    func check(_ value: PropertyValue) throws {
        if type.isArray {
            guard case let .array(elements) = value else { throw mismatch(value) }
            for element in elements where !fits(element) { throw mismatch(element) }
        } else if !fits(value) {
            throw mismatch(value)
        }
    }

    private func fits(_ value: PropertyValue) -> Bool {
        switch (type.scalar, value) {
        case (.text, .string), (.keyword, .string), (.int, .int), (.bool, .bool), (.date, .date), (.uuid, .uuid): return true
        case let (.float, .float(number)): return number.isFinite
        default: return false
        }
    }

    private func mismatch(_ value: PropertyValue) -> CairnError {
        .typeMismatch(property: name, expected: type.description, actual: value.typeName)
    }

    /// Converts a JSON value to this property's type, or throws `typeMismatch`.
    public func value(from json: JSONValue) throws -> PropertyValue {
        if type.isArray {
            guard case let .array(elements) = json else {
                throw CairnError.typeMismatch(property: name, expected: type.description, actual: json.typeName)
            }
            return .array(try elements.map { try scalarValue(from: $0) })
        }
        return try scalarValue(from: json)
    }

    private func scalarValue(from json: JSONValue) throws -> PropertyValue {
        let expected = type.scalar.rawValue
        func fail() -> CairnError { .typeMismatch(property: name, expected: expected, actual: json.typeName) }
        switch (type.scalar, json) {
        case let (.text, .string(text)), let (.keyword, .string(text)): return .string(text)
        case let (.int, .int(number)): return .int(number)
        case let (.int, .double(number)):
            guard number.rounded() == number, let exact = Int64(exactly: number) else { throw fail() }
            return .int(exact)
        case let (.float, .double(number)):
            guard number.isFinite else { throw fail() }
            return .float(number)
        case let (.float, .int(number)): return .float(Double(number))
        case let (.bool, .bool(flag)): return .bool(flag)
        case let (.date, .string(text)):
            guard let milliseconds = DateCoding.parse(text) else {
                throw CairnError.typeMismatch(property: name, expected: "an ISO 8601 date", actual: "\"\(text)\"")
            }
            return .date(milliseconds)
        case let (.uuid, .string(text)):
            guard let uuid = UUID(uuidString: text) else {
                throw CairnError.typeMismatch(property: name, expected: "a UUID", actual: "\"\(text)\"")
            }
            return .uuid(uuid)
        default: throw fail()
        }
    }
}

extension PropertyValue {
    /// A short name of the value's type, for error messages.
    var typeName: String {
        switch self {
        case .string: "a string"
        case .int: "an integer"
        case let .float(number): number.isFinite ? "a float" : "a non-finite float"
        case .bool: "a boolean"
        case .date: "a date"
        case .uuid: "a UUID"
        case .array: "an array"
        }
    }
}
