import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The latency of one durable 700-byte write (pwrite into a zero-filled file + fdatasync) on the
/// benchmark's disk: the floor under every single-object put.
enum SyncLatency {
    static func measure(in directory: String, iterations: Int = 500) -> Double {
        let path = directory + "/cairn-bench-sync-\(UUID().uuidString.prefix(6))"
        defer { unlink(path) }
        let fd = open(path, O_CREAT | O_RDWR | O_TRUNC, 0o644)
        guard fd >= 0 else { return .nan }
        defer { close(fd) }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        _ = zeros.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        let record = [UInt8](repeating: 1, count: 700)
        let started = ContinuousClock.now
        for index in 0..<iterations {
            _ = record.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(index * 700)) }
            fdatasync(fd)
        }
        return (ContinuousClock.now - started).seconds / Double(iterations) * 1e6
    }
}
