import Foundation

/// A typed property value, validated against its collection's schema.
public enum PropertyValue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A `text` or `keyword` value.
    case string(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    /// Milliseconds since 1970-01-01T00:00:00Z.
    case date(Int64)
    case uuid(UUID)
    case array([PropertyValue])

    /// A date value from a `Date`, truncated to milliseconds.
    public static func date(_ date: Date) -> PropertyValue {
        .date(Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    public var description: String {
        switch self {
        case let .string(value): return "\"\(value)\""
        case let .int(value): return String(value)
        case let .float(value): return String(value)
        case let .bool(value): return String(value)
        case let .date(value): return DateCoding.format(milliseconds: value)
        case let .uuid(value): return value.uuidString.lowercased()
        case let .array(values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// The value as JSON, the way the CLI and the server print it.
    public var json: JSONValue {
        switch self {
        case let .string(value): return .string(value)
        case let .int(value): return .int(value)
        case let .float(value): return .double(value)
        case let .bool(value): return .bool(value)
        case let .date(value): return .string(DateCoding.format(milliseconds: value))
        case let .uuid(value): return .string(value.uuidString.lowercased())
        case let .array(values): return .array(values.map(\.json))
        }
    }

    /// The scalar elements: the value itself, or an array's elements.
    var elements: [PropertyValue] {
        if case let .array(values) = self { return values }
        return [self]
    }
}

/// ISO 8601 dates with millisecond precision, as they appear in JSON.
public enum DateCoding {
    /// Parses `2024-05-01`, `2024-05-01T12:00:00Z` or `2024-05-01T12:00:00.250+02:00`.
    public static func parse(_ text: String) -> Int64? {
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        if let date = (try? withFraction.parse(text)) ?? (try? plain.parse(text)) { return Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) }
        if text.count == 10, let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) {
            return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        }
        return nil
    }

    /// Formats milliseconds since the epoch as `2024-05-01T12:00:00.250Z`.
    public static func format(milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            .formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
