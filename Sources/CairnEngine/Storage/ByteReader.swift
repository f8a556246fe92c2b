import Foundation

/// Reads little-endian binary values from a byte buffer it does not own, checking every bound.
/// A read past the end throws `ByteReader.Truncated`, which callers turn into a located error.
package struct ByteReader {
    /// Thrown when a read runs past the end of the buffer.
    package struct Truncated: Error {
        package let offset: Int
    }

    /// The buffer being read.
    package let buffer: UnsafeRawBufferPointer
    /// The position of the next read.
    package var offset: Int

    package init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    /// Bytes left to read.
    package var remaining: Int { buffer.count - offset }

    @inline(__always)
    mutating func advance(_ count: Int) throws -> Int {
        guard count >= 0, count <= buffer.count - offset else { throw Truncated(offset: offset) }
        let start = offset
        offset += count
        return start
    }

    package mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        let start = try advance(MemoryLayout<T>.size)
        return T(littleEndian: buffer.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    package mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    package mutating func readUUID() throws -> UUID {
        let start = try advance(16)
        return UUID(uuid: buffer.loadUnaligned(fromByteOffset: start, as: uuid_t.self))
    }

    /// A length-prefixed (u32) UTF-8 string.
    package mutating func readString() throws -> String {
        let length = Int(try read(UInt32.self))
        let start = try advance(length)
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<start + length]), as: UTF8.self)
    }

    /// `count` raw bytes as a slice of the buffer.
    package mutating func readRaw(count: Int) throws -> UnsafeRawBufferPointer {
        let start = try advance(count)
        return UnsafeRawBufferPointer(rebasing: buffer[start..<start + count])
    }

    /// `count` little-endian floats, copied out.
    package mutating func readFloats(count: Int) throws -> [Float] {
        let raw = try readRaw(count: count * 4)
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            initialized = count
        }
    }

    /// A length-prefixed (u32) byte string.
    package mutating func readLengthPrefixed() throws -> [UInt8] {
        let length = Int(try read(UInt32.self))
        return Array(try readRaw(count: length))
    }
}
