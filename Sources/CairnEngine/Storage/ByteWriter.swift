import Foundation

/// Appends little-endian binary values to a growable byte array: the encoder of every binary
/// on-disk format (WAL records, segments).
package struct ByteWriter: Sendable {
    /// The bytes written so far.
    package private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    package init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// The number of bytes written.
    package var count: Int { bytes.count }

    package mutating func write(_ value: UInt8) { bytes.append(value) }

    package mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    package mutating func write(_ value: Double) { write(value.bitPattern) }

    package mutating func write(_ value: Float) { write(value.bitPattern) }

    package mutating func write(_ uuid: UUID) {
        withUnsafeBytes(of: uuid.uuid) { bytes.append(contentsOf: $0) }
    }

    /// A length-prefixed (u32) UTF-8 string.
    package mutating func write(_ string: String) {
        var copy = string
        copy.withUTF8 { utf8 in
            write(UInt32(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Raw bytes, without a length.
    package mutating func write(raw: UnsafeRawBufferPointer) { bytes.append(contentsOf: raw) }

    /// Raw bytes, without a length.
    package mutating func write(raw: [UInt8]) { bytes.append(contentsOf: raw) }

    /// A length-prefixed (u32) byte string.
    package mutating func write(lengthPrefixed raw: [UInt8]) {
        write(UInt32(raw.count))
        bytes.append(contentsOf: raw)
    }

    /// Floats as raw little-endian IEEE 754 values.
    package mutating func write(floats: UnsafeBufferPointer<Float>) {
        bytes.append(contentsOf: UnsafeRawBufferPointer(floats))
    }

    /// Forgets the bytes written, keeping the storage for the next ones.
    package mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Hands the bytes written to `append` and forgets them, once there are at least `size`
    /// (any when 0): how a block is streamed in pieces instead of built whole in memory.
    package mutating func handOver(ifAtLeast size: Int = 0, to append: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard count >= size, count > 0 else { return }
        try bytes.withUnsafeBytes(append)
        removeAll()
    }

    /// Zero bytes until the length is a multiple of `alignment`.
    package mutating func pad(toMultipleOf alignment: Int) {
        let remainder = bytes.count % alignment
        if remainder != 0 { bytes.append(contentsOf: repeatElement(0, count: alignment - remainder)) }
    }

    /// Overwrites a u32 at `offset` (for lengths known only after the body is written).
    package mutating func patch(_ value: UInt32, at offset: Int) {
        withUnsafeBytes(of: value.littleEndian) { raw in
            for i in 0..<4 { bytes[offset + i] = raw[i] }
        }
    }
}
