import Foundation

/// Reads little-endian binary values from a byte buffer it does not own, checking every bound.
/// A read past the end throws `ByteReader.Truncated`, which callers turn into a located error.
public struct ByteReader {
    /// Thrown when a read runs past the end of the buffer.
    public struct Truncated: Error {
        public let offset: Int
    }

    /// The buffer being read.
    public let buffer: UnsafeRawBufferPointer
    /// The position of the next read.
    public var offset: Int

    public init(_ buffer: UnsafeRawBufferPointer, offset: Int = 0) {
        self.buffer = buffer
        self.offset = offset
    }

    /// Bytes left to read.
    public var remaining: Int { buffer.count - offset }

    @inline(__always)
    mutating func advance(_ count: Int) throws -> Int {
        guard count >= 0, count <= buffer.count - offset else { throw Truncated(offset: offset) }
        let start = offset
        offset += count
        return start
    }

    public mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws -> T {
        let start = try advance(MemoryLayout<T>.size)
        return T(littleEndian: buffer.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    public mutating func readDouble() throws -> Double { Double(bitPattern: try read(UInt64.self)) }

    public mutating func readUUID() throws -> UUID {
        let start = try advance(16)
        return UUID(uuid: buffer.loadUnaligned(fromByteOffset: start, as: uuid_t.self))
    }

    /// A length-prefixed (u32) UTF-8 string.
    public mutating func readString() throws -> String {
        let length = Int(try read(UInt32.self))
        let start = try advance(length)
        return String(decoding: UnsafeRawBufferPointer(rebasing: buffer[start..<start + length]), as: UTF8.self)
    }

    /// `count` raw bytes as a slice of the buffer.
    public mutating func readRaw(count: Int) throws -> UnsafeRawBufferPointer {
        let start = try advance(count)
        return UnsafeRawBufferPointer(rebasing: buffer[start..<start + count])
    }

    /// A length-prefixed (u32) byte string.
    public mutating func readLengthPrefixed() throws -> [UInt8] {
        let length = Int(try read(UInt32.self))
        return Array(try readRaw(count: length))
    }
}
