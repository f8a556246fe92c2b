import ArgumentParser
import CairnBackup
import Crypto
import Foundation

/// Content-defined chunking throughput, with a SHA-256 pass over the same bytes for scale, and
/// how much of an edited file an incremental backup stores again.
struct ChunkingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chunking",
        abstract: "Measure FastCDC chunking (GB/s on one core) next to SHA-256, and the dedup of an edited file.",
        discussion: "Example: swift run -c release cairn-bench chunking --megabytes 256 --seconds 3"
    )

    @Option(help: "Size of the seeded random buffer, MiB.") var megabytes = 256
    @Option(help: "Repeat each pass until this many seconds have passed.") var seconds = 3.0

    func run() throws {
        var generator = SystemRandomNumberGenerator()
        var state: UInt64 = 42
        let bytes = [UInt8](unsafeUninitializedCapacity: megabytes << 20) { buffer, count in
            for index in 0..<(megabytes << 20) / 8 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                UnsafeMutableRawPointer(buffer.baseAddress!).storeBytes(of: state ^ (state >> 29), toByteOffset: index * 8, as: UInt64.self)
            }
            count = megabytes << 20
        }
        let chunker = ContentDefinedChunker(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
        var chunks = 0
        let chunking = measure { bytes.withUnsafeBytes { raw in
            var start = 0
            while start < raw.count {
                start += chunker.chunkLength(UnsafeRawBufferPointer(rebasing: raw[start...]))
                chunks += 1
            }
        } }
        let hashing = measure { bytes.withUnsafeBytes { raw in _ = SHA256.hash(data: raw) } }
        print(String(format: "FastCDC: %.2f GB/s (average chunk %.0f KiB)   SHA-256: %.2f GB/s   (%d MiB, one core)",
                     chunking.rate, Double(bytes.count) * Double(chunking.passes) / Double(chunks) / 1024, hashing.rate, megabytes))

        // An edited file: 1 KiB inserted near the start of 50 MiB.
        let original = Array(bytes.prefix(50 << 20))
        var edited = original
        edited.insert(contentsOf: bytes.suffix(1024), at: 300_000)
        let before = Set(chunker.chunks(of: original).map { SHA256.hash(data: $0) })
        let after = chunker.chunks(of: edited)
        let new = after.filter { !before.contains(SHA256.hash(data: $0)) }
        print(String(format: "edited 50 MiB file (+1 KiB at 300 KB): %d of %d chunks new, %.2f MiB of %.2f MiB stored again (%.1f%%)",
                     new.count, after.count, Double(new.reduce(0) { $0 + $1.count }) / 1_048_576, Double(edited.count) / 1_048_576,
                     100 * Double(new.reduce(0) { $0 + $1.count }) / Double(edited.count)))
    }

    /// Runs `body` over the buffer until `seconds` have passed; GB/s (10^9 bytes) over all passes.
    private func measure(_ body: () -> Void) -> (rate: Double, passes: Int) {
        let started = ContinuousClock.now
        var passes = 0
        repeat {
            body()
            passes += 1
        } while (ContinuousClock.now - started) < .seconds(seconds)
        let elapsed = (ContinuousClock.now - started).milliseconds / 1000
        return (Double(megabytes << 20) * Double(passes) / elapsed / 1e9, passes)
    }
}
