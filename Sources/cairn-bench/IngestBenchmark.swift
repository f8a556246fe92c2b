import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Durable ingest throughput, flush time and reopen time, each on a fresh data directory.
struct IngestBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Measure durable ingest (1 and 4 writers, batches and single puts), flush and reopen.",
        discussion: "Example: swift run -c release cairn-bench ingest --count 100000 --dimensions 128"
    )

    @Option(help: "Objects per scenario.") var count = 100_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "Objects per batch in the batch scenarios.") var batchSize = 100
    @Option(help: "Where the temporary data directories go.") var workDirectory = NSTemporaryDirectory()
    @Option(help: "Objects in the WAL for the unflushed-reopen scenario.") var unflushed = 50_000
    @Flag(help: "Skip the single-object put scenarios (they take longest).") var skipSingle = false

    func run() async throws {
        print("generating \(count) objects × \(dimensions) dimensions with 3 properties…")
        let objects = SampleData.objects(count: count, dimensions: dimensions, seed: 1)
        print("CRC32C hardware: \(CRC32C.isHardwareAccelerated)")
        let sync = SyncLatency.measure(in: workDirectory)
        print(String(format: "disk: one 700 B write + fdatasync = %.0f µs (4 closed-loop writers of single puts can reach at most %.0f objects/s)",
                     sync, 4 / sync * 1e6))
        for writers in [1, 4] {
            try await ingest(objects, writers: writers, batchSize: batchSize)
            if !skipSingle { try await ingest(objects, writers: writers, batchSize: 1) }
        }
        try await flushAndReopen(objects)
        print(String(format: "disk after the run: one 700 B write + fdatasync = %.0f µs", SyncLatency.measure(in: workDirectory)))
    }

    private func freshDirectory(_ label: String) -> String {
        let path = workDirectory + "/cairn-bench-\(label)-\(UUID().uuidString.prefix(6))"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    /// Puts every object with `writers` concurrent tasks, each putting batches of `batchSize`.
    private func ingest(_ objects: [NewObject], writers: Int, batchSize: Int) async throws {
        let path = freshDirectory("ingest")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let db = try await Database.open(at: path)
        try await db.createCollection(SampleData.schema(dimensions: dimensions))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            let share = (objects.count + writers - 1) / writers
            for writer in 0..<writers {
                let mine = Array(objects[min(objects.count, writer * share)..<min(objects.count, (writer + 1) * share)])
                group.addTask {
                    for start in stride(from: 0, to: mine.count, by: batchSize) {
                        try await db.put(Array(mine[start..<min(mine.count, start + batchSize)]), into: "articles")
                    }
                }
            }
            try await group.waitForAll()
        }
        let seconds = (ContinuousClock.now - started).seconds
        let stored = try db.count("articles")
        await db.close()
        guard stored == objects.count else { throw CairnError.invalidArgument("expected \(objects.count) objects, found \(stored)") }
        let kind = batchSize == 1 ? "single puts" : "batches of \(batchSize)"
        print("ingest  writers=\(writers) \(kind.padding(toLength: 15, withPad: " ", startingAt: 0)) \(Int(Double(objects.count) / seconds)) objects/s (\(String(format: "%.2f", seconds)) s, durable)")
    }

    private func flushAndReopen(_ objects: [NewObject]) async throws {
        let path = freshDirectory("reopen")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = EngineOptions()
        options.memtableFlushBytes = Int.max // keep everything in the memtable until the timed flush
        do {
            let db = try await Database.open(at: path, options: options)
            try await db.createCollection(SampleData.schema(dimensions: dimensions))
            for start in stride(from: 0, to: objects.count, by: 1000) {
                try await db.put(Array(objects[start..<min(objects.count, start + 1000)]), into: "articles")
            }
            let started = ContinuousClock.now
            try await db.flush()
            print("flush   \(objects.count) objects: \(milliseconds(ContinuousClock.now - started)) ms")
            await db.close()
        }
        let emptyWAL = try await timedOpen(path, options: options, expect: objects.count)
        print("reopen  \(objects.count) objects in segments, empty WAL: \(emptyWAL) ms")
        do {
            let db = try await Database.open(at: path, options: options)
            let extra = SampleData.objects(count: unflushed, dimensions: dimensions, seed: 99)
            for start in stride(from: 0, to: extra.count, by: 1000) {
                try await db.put(Array(extra[start..<min(extra.count, start + 1000)]), into: "articles")
            }
            await db.close()
        }
        let withWAL = try await timedOpen(path, options: options, expect: objects.count + unflushed)
        print("reopen  \(objects.count) in segments + \(unflushed) unflushed in the WAL: \(withWAL) ms")
    }

    private func timedOpen(_ path: String, options: EngineOptions, expect: Int) async throws -> String {
        let started = ContinuousClock.now
        let db = try await Database.open(at: path, options: options)
        let elapsed = ContinuousClock.now - started
        let count = try db.count("articles")
        await db.close()
        guard count == expect else { throw CairnError.invalidArgument("expected \(expect) objects after reopen, found \(count)") }
        return milliseconds(elapsed)
    }

    private func milliseconds(_ duration: Duration) -> String { String(format: "%.1f", duration.seconds * 1000) }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
