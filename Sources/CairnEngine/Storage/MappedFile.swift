import Foundation
import SystemPackage
#if canImport(Glibc)
import Glibc
#endif

/// A read-only memory mapping of a whole immutable file. Unmapped when released.
final class MappedFile: @unchecked Sendable {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        let fd = try FileSystem.open(path, .readOnly)
        defer { try? fd.close() }
        let size = try FileSystem.fileSize(path)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd.rawValue, 0), address != MAP_FAILED else {
            throw FileSystem.ioError(path, "mmap", Errno(rawValue: errno))
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    deinit {
        if let base = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: base), bytes.count) }
    }
}
