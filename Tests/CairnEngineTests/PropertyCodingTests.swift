@testable import CairnEngine
import Foundation
import Testing

@Suite("Property coding")
struct PropertyCodingTests {
    static let properties: [String: PropertyValue] = [
        "a": .string("text with ümlauts"), "b": .int(-7), "c": .float(2.5), "d": .bool(true),
        "e": .date(1_700_000_000_000), "f": .uuid(UUID(uuidString: "6F1B1F8A-6D0A-4C55-9E3C-2B0E3A8C1D11")!),
        "g": .array([.string("x"), .array([.int(1), .int(2)]), .bool(false)]), "z": .int(99),
    ]

    @Test("one property is read from the encoded form, stepping over every kind of value before it")
    func valueNamed() {
        var writer = ByteWriter()
        PropertyCoding.encode(Self.properties, into: &writer)
        writer.bytes.withUnsafeBytes { encoded in
            for (name, value) in Self.properties { #expect(PropertyCoding.value(named: name, in: encoded) == value, "\(name)") }
            #expect(PropertyCoding.value(named: "missing", in: encoded) == nil)
            #expect(PropertyCoding.value(named: "a", in: UnsafeRawBufferPointer(rebasing: encoded.prefix(5))) == nil, "truncated bytes")
        }
    }
}
