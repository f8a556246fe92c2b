import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Peak memory of a flush and of a compaction: ingests `count` objects, flushes them into one
/// segment, then builds four segments of a quarter each in a second database and compacts them
/// into one. A sampler reads the process's anonymous and file-backed resident memory every 5 ms;
/// each phase reports its peak above the level before it, beside the graph's own size.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory",
        abstract: "Peak resident memory of a flush and of a compaction.",
        discussion: "Example: swift run -c release cairn-bench memory --count 1000000 --dimensions 128 --ef-construction 40"
    )

    @Option(help: "Objects to flush, and to compact.") var count = 1_000_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "HNSW efConstruction (lower builds faster; memory does not depend on it).") var efConstruction = 200
    @Option(help: "Where the temporary data directories go.") var workDirectory = NSTemporaryDirectory()

    func run() async throws {
        let root = workDirectory + "/cairn-bench-memory-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = EngineOptions()
        options.memtableFlushBytes = Int.max
        options.checkpointWALBytes = Int.max
        options.checkpointInterval = 1e9
        options.compactionSegmentCount = 1000
        let schema = CollectionSchema(name: "c", dimensions: dimensions, metric: .l2, hnsw: HNSWParameters(efConstruction: efConstruction))
        let vectorMiB = Double(count * dimensions * 4) / 1_048_576
        let graphMiB = Double(count * (1 + 2 * schema.hnsw.M) * 4) / 1_048_576
        print("\(count) × \(dimensions)-d: vectors \(fixed(vectorMiB)) MiB, graph layer 0 about \(fixed(graphMiB)) MiB")
        print("phase        seconds  anon before  anon peak  anon added  file-backed peak  (MiB)")
        var generator = SeededGenerator(seed: 5)

        let flushed = try await Database.open(at: root + "/flush", options: options)
        try await flushed.createCollection(schema)
        try await ingest(count, into: flushed, generator: &generator)
        try await measure("flush") { try await flushed.flush() }
        await flushed.close()

        let compacted = try await Database.open(at: root + "/compact", options: options)
        try await compacted.createCollection(schema)
        for _ in 0..<4 {
            try await ingest(count / 4, into: compacted, generator: &generator)
            try await compacted.flush()
        }
        await compacted.close()
        options.compactionSegmentCount = 4
        let reopened = try await Database.open(at: root + "/compact", options: options)
        try await measure("compaction") { try await reopened.compact() }
        print("segments after compaction: \(reopened.stats().segments)")
        await reopened.close()
    }

    private func ingest(_ objects: Int, into db: Database, generator: inout SeededGenerator) async throws {
        for start in stride(from: 0, to: objects, by: 1000) {
            let batch = (start..<min(objects, start + 1000)).map { _ in NewObject(id: generator.uuid(), vector: generator.vector(dimensions)) }
            try await db.put(batch, into: "c")
        }
        try await db.finishIndexing()
    }

    private func measure(_ phase: String, _ body: () async throws -> Void) async throws {
        let before = ResidentMemory.now()
        let sampler = ResidentMemory.PeakSampler()
        let started = ContinuousClock.now
        try await body()
        let seconds = ContinuousClock.now - started
        let peak = sampler.stop()
        let mib = { (bytes: Int) in fixed(Double(bytes) / 1_048_576) }
        print([phase.padding(toLength: 12, withPad: " ", startingAt: 0), fixed(seconds.seconds, 7), mib(before.anonymous).leftPadded(12),
               mib(peak.anonymous).leftPadded(10), mib(peak.anonymous - before.anonymous).leftPadded(11), mib(peak.file).leftPadded(17)].joined(separator: " "))
    }

    private func fixed(_ value: Double, _ width: Int = 0) -> String {
        String(format: "%.1f", value).leftPadded(width)
    }
}

/// Resident memory of this process from `/proc/self/status` (Linux).
enum ResidentMemory {
    struct Reading { var anonymous = 0, file = 0 }

    static func now() -> Reading {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return Reading() }
        var reading = Reading()
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard fields.count >= 2, let kib = Int(fields[1]) else { continue }
            if fields[0] == "RssAnon:" { reading.anonymous = kib * 1024 }
            if fields[0] == "RssFile:" { reading.file = kib * 1024 }
        }
        return reading
    }

    /// Samples `now()` on a thread every 5 ms until stopped; returns the peaks.
    final class PeakSampler: @unchecked Sendable {
        private let lock = NSLock()
        private var peak = Reading()
        private var running = true
        private let done = DispatchSemaphore(value: 0)

        init() {
            let thread = Thread { [self] in
                while lock.withLock({ running }) {
                    let reading = ResidentMemory.now()
                    lock.withLock {
                        peak.anonymous = max(peak.anonymous, reading.anonymous)
                        peak.file = max(peak.file, reading.file)
                    }
                    usleep(5000)
                }
                done.signal()
            }
            thread.start()
        }

        func stop() -> Reading {
            lock.withLock { running = false }
            done.wait()
            return lock.withLock { peak }
        }
    }
}
