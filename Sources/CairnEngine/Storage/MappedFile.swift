/// A read-only view of a whole immutable file: a memory mapping on the local file system, a
/// copy in a simulated one. Released (unmapped or freed) when the last reference goes.
package final class MappedFile: @unchecked Sendable {
    package let path: String
    package let bytes: UnsafeRawBufferPointer
    private let release: (UnsafeRawBufferPointer) -> Void
    private let evict: ((UnsafeRawBufferPointer) -> Void)?

    /// Wraps `bytes`, which `release` frees; `evict` drops pages from memory that the next read
    /// brings back (nil when there is nothing to drop).
    package init(path: String, bytes: UnsafeRawBufferPointer, release: @escaping (UnsafeRawBufferPointer) -> Void,
                 evict: ((UnsafeRawBufferPointer) -> Void)? = nil) {
        self.path = path
        self.bytes = bytes
        self.release = release
        self.evict = evict
    }

    /// Lets the pages read so far leave this process's memory: they stay in the kernel's page
    /// cache, and a later read maps them back (a minor fault). Called after a pass over a whole
    /// file (checking checksums at open, a scan), so reading a file once does not leave the
    /// process holding all of it.
    package func evictResidentPages() {
        evictPages(of: bytes)
    }

    /// Lets the pages of `region` (part of this mapping) leave this process's memory, as
    /// `evictResidentPages` does for the whole file.
    package func evictPages(of region: UnsafeRawBufferPointer) {
        withExtendedLifetime(self) { evict?(region) }
    }

    /// The CRC32C of `region` (part of this mapping), read 4 MiB at a time, each chunk's pages
    /// let go once read: checking a file larger than memory never holds more than a chunk of it.
    package func checksumEvictingPages(_ region: UnsafeRawBufferPointer) -> UInt32 {
        var crc: UInt32 = 0
        forEachChunkEvictingPages(of: region) { crc = CRC32C.checksum($0, extending: crc) }
        return crc
    }

    /// Hands `region` (part of this mapping) to `body` 4 MiB at a time, in order, each chunk's
    /// pages let go once `body` returns (the last, shorter one's too: checking a segment's
    /// small blocks one after another otherwise kept them all).
    package func forEachChunkEvictingPages(of region: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        let chunk = 4 << 20
        var start = 0
        while start < region.count {
            let piece = UnsafeRawBufferPointer(rebasing: region[start..<min(region.count, start + chunk)])
            body(piece)
            evict?(piece)
            start += chunk
        }
    }

    /// A copy of `contents` (for file systems without mappings).
    package convenience init(path: String, copying contents: [UInt8]) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(contents.count, 1), alignment: 64)
        contents.withUnsafeBytes { buffer.copyMemory(from: $0) }
        self.init(path: path, bytes: UnsafeRawBufferPointer(rebasing: buffer[0..<contents.count])) { _ in buffer.deallocate() }
    }

    /// Runs `body` with the bytes, keeping the mapping alive until it returns. Code that does not
    /// store the `MappedFile` itself must read through this: Swift may release an object right
    /// after its last use, which for a mapping would be before the bytes are read.
    package func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try withExtendedLifetime(self) { try body(bytes) }
    }

    deinit { release(bytes) }
}
