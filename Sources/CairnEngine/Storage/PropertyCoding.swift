import Foundation

/// The binary form of property values, shared by WAL records and segments.
///
/// Layout: `u16 count`, then per property (sorted by name) `string name`, `u8 tag`, payload.
/// Tags: 1 string, 2 int (i64), 3 float (f64), 4 bool (u8), 5 date (i64 ms), 6 uuid (16 bytes),
/// 7 array (`u32 count` then tagged elements).
package enum PropertyCoding {
    package static func encode(_ properties: [String: PropertyValue], into writer: inout ByteWriter) {
        writer.write(UInt16(properties.count))
        for key in properties.keys.sorted() {
            writer.write(key)
            encode(properties[key]!, into: &writer)
        }
    }

    static func encode(_ value: PropertyValue, into writer: inout ByteWriter) {
        switch value {
        case let .string(text): writer.write(UInt8(1)); writer.write(text)
        case let .int(number): writer.write(UInt8(2)); writer.write(number)
        case let .float(number): writer.write(UInt8(3)); writer.write(number)
        case let .bool(flag): writer.write(UInt8(4)); writer.write(UInt8(flag ? 1 : 0))
        case let .date(milliseconds): writer.write(UInt8(5)); writer.write(milliseconds)
        case let .uuid(uuid): writer.write(UInt8(6)); writer.write(uuid)
        case let .array(elements):
            writer.write(UInt8(7))
            writer.write(UInt32(elements.count))
            for element in elements { encode(element, into: &writer) }
        }
    }

    package static func decodeProperties(from reader: inout ByteReader) throws -> [String: PropertyValue] {
        let count = Int(try reader.read(UInt16.self))
        var properties = [String: PropertyValue](minimumCapacity: count)
        for _ in 0..<count {
            let key = try reader.readString()
            properties[key] = try decodeValue(from: &reader)
        }
        return properties
    }

    /// The value of the property named `name` in `encoded` (one object's properties, as
    /// `encode` writes them), decoding no other value; nil when it has none or the bytes do not
    /// decode.
    static func value(named name: String, in encoded: UnsafeRawBufferPointer) -> PropertyValue? {
        guard !encoded.isEmpty else { return nil }
        var reader = ByteReader(encoded)
        var name = name
        return name.withUTF8 { wanted -> PropertyValue? in
            guard let count = try? reader.read(UInt16.self) else { return nil }
            for _ in 0..<count {
                guard let length = try? reader.read(UInt32.self), let key = try? reader.readRaw(count: Int(length)) else { return nil }
                if key.elementsEqual(UnsafeRawBufferPointer(wanted)) { return try? decodeValue(from: &reader) }
                guard (try? skipValue(from: &reader)) != nil else { return nil }
            }
            return nil
        }
    }

    /// Moves `reader` past one encoded value.
    private static func skipValue(from reader: inout ByteReader) throws {
        let tagOffset = reader.offset
        switch try reader.read(UInt8.self) {
        case 1: _ = try reader.readRaw(count: Int(try reader.read(UInt32.self)))
        case 2, 3, 5: _ = try reader.readRaw(count: 8)
        case 4: _ = try reader.readRaw(count: 1)
        case 6: _ = try reader.readRaw(count: 16)
        case 7: for _ in 0..<Int(try reader.read(UInt32.self)) { try skipValue(from: &reader) }
        default: throw ByteReader.Truncated(offset: tagOffset)
        }
    }

    static func decodeValue(from reader: inout ByteReader) throws -> PropertyValue {
        let tagOffset = reader.offset
        switch try reader.read(UInt8.self) {
        case 1: return .string(try reader.readString())
        case 2: return .int(try reader.read(Int64.self))
        case 3: return .float(try reader.readDouble())
        case 4: return .bool(try reader.read(UInt8.self) != 0)
        case 5: return .date(try reader.read(Int64.self))
        case 6: return .uuid(try reader.readUUID())
        case 7:
            let count = Int(try reader.read(UInt32.self))
            guard count <= reader.remaining else { throw ByteReader.Truncated(offset: reader.offset) }
            var elements: [PropertyValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try decodeValue(from: &reader)) }
            return .array(elements)
        default: throw ByteReader.Truncated(offset: tagOffset)
        }
    }
}

/// An order-preserving byte encoding of a scalar value: comparing two keys byte by byte gives
/// the same order as comparing the values. Inverted indexes store these, and filters compare
/// them, so the memtable and the segments agree on every comparison.
struct IndexKey: Hashable, Comparable, Sendable {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }

    /// The key of a scalar value (arrays are indexed element by element).
    init(_ value: PropertyValue) {
        bytes = []
        IndexKey.append(value, to: &bytes)
    }

    /// Appends the key bytes of a scalar value to `buffer` without allocating a key.
    static func append(_ value: PropertyValue, to buffer: inout [UInt8]) {
        func bigEndian(_ word: UInt64) {
            withUnsafeBytes(of: word.bigEndian) { buffer.append(contentsOf: $0) }
        }
        switch value {
        case let .string(text): buffer.append(contentsOf: text.utf8)
        case let .int(number), let .date(number): bigEndian(UInt64(bitPattern: number) ^ (1 << 63))
        case let .float(number):
            let bits = number.bitPattern
            bigEndian(bits & (1 << 63) != 0 ? ~bits : bits | (1 << 63))
        case let .bool(flag): buffer.append(flag ? 1 : 0)
        case let .uuid(uuid): withUnsafeBytes(of: uuid.uuid) { buffer.append(contentsOf: $0) }
        case .array: break
        }
    }

    static func < (lhs: IndexKey, rhs: IndexKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
