import Foundation

extension ObjectJSON {
    /// Appends one JSONL line for `object` to `buffer`: `{"id":…,"properties":{…},"vector":[…]}`
    /// (keys sorted, as `importable(_:)` gives them) and, `withMetadata`, `createdAt` and
    /// `updatedAt`. Vector components are printed as the shortest decimal that reads back as
    /// the same 32-bit float, so an import gives back exactly the stored vector. Written
    /// directly as bytes: an export prints millions of these.
    public static func appendLine(_ object: StoredObject, withMetadata: Bool = false, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: #"{"#.utf8)
        if withMetadata {
            buffer.append(contentsOf: #""createdAt":"#.utf8)
            appendString(DateCoding.format(milliseconds: object.createdAtMilliseconds), to: &buffer)
            buffer.append(UInt8(ascii: ","))
        }
        buffer.append(contentsOf: #""id":""#.utf8)
        buffer.append(contentsOf: object.id.uuidString.lowercased().utf8)
        buffer.append(contentsOf: #"","properties":"#.utf8)
        appendValue(.object(object.properties.mapValues(\.json)), to: &buffer)
        if withMetadata {
            buffer.append(contentsOf: #","updatedAt":"#.utf8)
            appendString(DateCoding.format(milliseconds: object.updatedAtMilliseconds), to: &buffer)
        }
        buffer.append(contentsOf: #","vector":["#.utf8)
        for (index, component) in object.vector.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            buffer.append(contentsOf: component.description.utf8)
        }
        buffer.append(contentsOf: "]}\n".utf8)
    }

    /// Appends `value` as compact JSON, object keys sorted.
    static func appendValue(_ value: JSONValue, to buffer: inout [UInt8]) {
        switch value {
        case .null: buffer.append(contentsOf: "null".utf8)
        case let .bool(flag): buffer.append(contentsOf: (flag ? "true" : "false").utf8)
        case let .int(number): buffer.append(contentsOf: String(number).utf8)
        case let .double(number): buffer.append(contentsOf: (number.isFinite ? number.description : "null").utf8)
        case let .string(text): appendString(text, to: &buffer)
        case let .array(values):
            buffer.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendValue(element, to: &buffer)
            }
            buffer.append(UInt8(ascii: "]"))
        case let .object(fields):
            buffer.append(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendString(key, to: &buffer)
                buffer.append(UInt8(ascii: ":"))
                appendValue(fields[key]!, to: &buffer)
            }
            buffer.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped,
    /// everything else as UTF-8.
    static func appendString(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                buffer.append(contentsOf: ("\\u00" + (hex.count == 1 ? "0" : "") + hex).utf8)
            default: buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }
}
