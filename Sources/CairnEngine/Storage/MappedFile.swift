/// A read-only view of a whole immutable file: a memory mapping on the local file system, a
/// copy in a simulated one. Released (unmapped or freed) when the last reference goes.
package final class MappedFile: @unchecked Sendable {
    package let path: String
    package let bytes: UnsafeRawBufferPointer
    private let release: (UnsafeRawBufferPointer) -> Void

    /// Wraps `bytes`, which `release` frees.
    package init(path: String, bytes: UnsafeRawBufferPointer, release: @escaping (UnsafeRawBufferPointer) -> Void) {
        self.path = path
        self.bytes = bytes
        self.release = release
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
