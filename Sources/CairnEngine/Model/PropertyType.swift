/// The type of a property: a scalar type, or an array of one.
public struct PropertyType: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The scalar types a property can hold.
    public enum Scalar: String, Sendable, Hashable, CaseIterable {
        /// Free text, compared and indexed as a whole value.
        case text
        /// A short exact-match string (a language code, a category).
        case keyword
        case int
        case float
        case bool
        /// A point in time (ISO 8601 in JSON), stored with millisecond precision.
        case date
        case uuid
    }

    /// The type of one value.
    public var scalar: Scalar
    /// Whether the property holds a list of such values.
    public var isArray: Bool

    /// A property type of `scalar` values, or a list of them.
    public init(_ scalar: Scalar, isArray: Bool = false) {
        self.scalar = scalar
        self.isArray = isArray
    }

    /// Parses `int`, `text[]`, `keyword[]` and so on.
    public init?(parsing text: String) {
        let isArray = text.hasSuffix("[]")
        guard let scalar = Scalar(rawValue: String(isArray ? text.dropLast(2) : Substring(text))) else { return nil }
        self.init(scalar, isArray: isArray)
    }

    public var description: String { scalar.rawValue + (isArray ? "[]" : "") }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = PropertyType(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown property type \(text)"))
        }
        self = parsed
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
