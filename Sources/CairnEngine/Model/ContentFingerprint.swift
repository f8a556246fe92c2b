import Crypto
import Foundation

/// An order-independent hash of a set of objects: the wrapping 128-bit sum, over the objects,
/// of the first 128 bits of SHA-256 of each object's id, vector bytes and encoded properties
/// (`PropertyCoding`, keys sorted). Sums compose: a segment's fingerprint is kept in its
/// manifest record when the segment is written, and a partition's is the sum of its segments'
/// minus their dead rows plus its memtables' live objects. A backup records it; a restore
/// recomputes it row by row from what it wrote.
public struct ContentFingerprint: Hashable, Sendable, Codable, CustomStringConvertible {
    private(set) var high: UInt64 = 0
    private(set) var low: UInt64 = 0

    package init() {}

    /// The hash of one object.
    package init(id: UUID, vector: UnsafeBufferPointer<Float>, encodedProperties: UnsafeRawBufferPointer) {
        var hasher = SHA256()
        withUnsafeBytes(of: id.uuid) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: UnsafeRawBufferPointer(vector))
        hasher.update(bufferPointer: encodedProperties)
        let digest = hasher.finalize()
        (high, low) = digest.withUnsafeBytes {
            (UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)), UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
        }
    }

    /// Adds an object (or a set of objects) to the set.
    package mutating func add(_ other: ContentFingerprint) {
        let (sum, carry) = low.addingReportingOverflow(other.low)
        low = sum
        high = high &+ other.high &+ (carry ? 1 : 0)
    }

    /// Removes an object (or a set of objects) from the set.
    package mutating func subtract(_ other: ContentFingerprint) {
        let (difference, borrow) = low.subtractingReportingOverflow(other.low)
        low = difference
        high = high &- other.high &- (borrow ? 1 : 0)
    }

    /// 32 hex digits.
    public var description: String {
        func hex(_ word: UInt64) -> String {
            let digits = String(word, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }
        return hex(high) + hex(low)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard text.count == 32, let high = UInt64(text.prefix(16), radix: 16), let low = UInt64(text.suffix(16), radix: 16) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "a fingerprint is 32 hex digits, got \(text)"))
        }
        self.high = high
        self.low = low
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
