import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Write amplification of compaction: ingests objects in batches, overwriting a share of the
/// earlier ones as it goes, and reports segment bytes written by flushes and by compaction and
/// the number of segment files over time. The policy Cairn had before (merge all of a partition's
/// segments once it has four) is replayed on the same flush sizes for comparison.
struct CompactionBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compaction",
        abstract: "Write amplification and segment count of compaction while ingesting with overwrites.",
        discussion: "Example: swift run -c release cairn-bench compaction --count 1000000 --dimensions 128 --flush-every 25000"
    )

    @Option(help: "Objects to ingest.") var count = 1_000_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "Objects per batch.") var batchSize = 1000
    @Option(help: "Share of objects overwritten per 100,000 ingested.") var overwriteFraction = 0.01
    @Option(help: "Objects between two flushes (each flush waits, so compaction keeps pace with ingest).") var flushEvery = 25_000
    @Option(help: "HNSW efConstruction (lower builds faster; the bytes written do not depend on it).") var efConstruction = 200
    @Option(help: "Where the temporary data directory goes.") var workDirectory = NSTemporaryDirectory()

    func run() async throws {
        let path = workDirectory + "/cairn-bench-compaction-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = EngineOptions()
        options.memtableFlushBytes = Int.max
        let db = try await Database.open(at: path, options: options)
        try await db.createCollection(CollectionSchema(name: "c", dimensions: dimensions, metric: .l2, hnsw: HNSWParameters(efConstruction: efConstruction)))
        var generator = SeededGenerator(seed: 3)
        var ids: [UUID] = []
        ids.reserveCapacity(count)
        let started = ContinuousClock.now
        var flushSizes: [Int] = []
        var lastFlushed = 0
        FileHandle.standardOutput.write(Data("objects  segments  flushed MiB  compacted MiB  write amplification  seconds\n".utf8))
        for start in stride(from: 0, to: count, by: batchSize) {
            let batch = (start..<min(count, start + batchSize)).map { _ in NewObject(id: generator.uuid(), vector: generator.vector(dimensions)) }
            ids += batch.map(\.id)
            try await db.put(batch, into: "c")
            let done = start + batch.count
            if done % flushEvery == 0 { try await db.flush() }
            if done % 100_000 == 0 {
                var chosen = Set<UUID>()
                while chosen.count < Int(overwriteFraction * 100_000) { chosen.insert(ids[Int(generator.next() % UInt64(ids.count))]) }
                let overwrites = chosen.sorted { $0.uuidString < $1.uuidString }.map { NewObject(id: $0, vector: generator.vector(dimensions)) }
                for chunk in stride(from: 0, to: overwrites.count, by: batchSize) {
                    try await db.put(Array(overwrites[chunk..<min(overwrites.count, chunk + batchSize)]), into: "c")
                }
                report(db.stats(), objects: done, started: started)
            }
            let flushed = db.stats().segmentBytesFlushed
            if flushed > lastFlushed {
                flushSizes.append(flushed - lastFlushed)
                lastFlushed = flushed
            }
        }
        try await db.flush()
        let stats = db.stats()
        if stats.segmentBytesFlushed > lastFlushed { flushSizes.append(stats.segmentBytesFlushed - lastFlushed) }
        report(stats, objects: count, started: started)
        await db.close()
        let mergeAll = Self.mergeAllAmplification(flushSizes)
        print("previous policy (merge everything once a partition has 4 segments), same \(flushSizes.count) flushes: "
              + "write amplification " + String(format: "%.2f", mergeAll))
    }

    private func report(_ stats: EngineStats, objects: Int, started: ContinuousClock.Instant) {
        let flushed = Double(stats.segmentBytesFlushed), compacted = Double(stats.segmentBytesCompacted)
        func column(_ text: String, _ width: Int) -> String { text.leftPadded(width) }
        func fixed(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        let line = [column(String(objects), 7), column(String(stats.segments), 8), column(fixed(flushed / 1_048_576, 1), 11),
                    column(fixed(compacted / 1_048_576, 1), 13), column(fixed(flushed > 0 ? (flushed + compacted) / flushed : 0, 2), 19),
                    column(fixed((ContinuousClock.now - started).seconds, 1), 7)].joined(separator: "  ")
        // Written at once (not through print's buffer), so a long run shows its progress.
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    /// The old policy on the same flushes: at 4 segments, all are rewritten into one.
    static func mergeAllAmplification(_ flushes: [Int]) -> Double {
        var segments: [Int] = []
        var written = 0
        for size in flushes {
            segments.append(size)
            written += size
            if segments.count >= 4 {
                let merged = segments.reduce(0, +)
                written += merged
                segments = [merged]
            }
        }
        let flushed = flushes.reduce(0, +)
        return flushed > 0 ? Double(written) / Double(flushed) : 0
    }
}
