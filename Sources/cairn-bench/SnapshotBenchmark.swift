import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Snapshot creation time and writer pause at several sizes, the writer pause of a
/// storage-snapshot begin, `verify` speed, and restart time after a crash with a recent
/// checkpoint against replaying everything from the WAL.
struct SnapshotBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Measure snapshot creation (time, writer pause), storage-snapshot begin, verify, and restart with and without a recent checkpoint.",
        discussion: "Example: swift run -c release cairn-bench snapshot --objects 10000,1000000"
    )

    @Option(help: "Comma-separated database sizes (objects).") var objects = "10000,1000000"
    @Option(help: "Vector dimensions.") var dimensions = 32
    @Option(help: "Snapshots taken per size while 4 writers insert.") var snapshots = 5
    @Option(help: "Where the temporary data directories go.") var workDirectory = NSTemporaryDirectory()
    @Option(help: "Which measurements: snapshot (creation, storage-snapshot begin, verify), restart, or both.")
    var parts = "snapshot,restart"

    /// The graph is not what is measured here: a light one keeps the set-up short.
    private var schema: CollectionSchema {
        var schema = SampleData.schema(dimensions: dimensions)
        schema.hnsw = HNSWParameters(M: 8, efConstruction: 32)
        return schema
    }

    func run() async throws {
        for count in objects.split(separator: ",").compactMap({ Int($0) }) {
            if parts.contains("snapshot") { try await snapshotCreation(count) }
            if parts.contains("restart") { try await restart(count) }
        }
    }

    private func freshDirectory(_ label: String) -> String {
        let path = workDirectory + "/cairn-bench-\(label)-\(UUID().uuidString.prefix(6))"
        try? FileManager.default.removeItem(atPath: path)
        return path
    }

    private func load(_ db: Database, count: Int) async throws {
        for start in stride(from: 0, to: count, by: 10_000) {
            try await db.put(SampleData.objects(count: min(10_000, count - start), dimensions: dimensions, seed: UInt64(start)), into: "articles")
        }
    }

    /// A database of `count` objects (flushed), then `snapshots` snapshots while 4 writers insert.
    private func snapshotCreation(_ count: Int) async throws {
        let path = freshDirectory("snapshot")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = EngineOptions()
        options.logger.logLevel = .warning
        let db = try await Database.open(at: path, options: options)
        try await db.createCollection(schema)
        try await load(db, count: count)
        try await db.flush()
        // Enough for the writers to keep going through every snapshot.
        let perWriter = 100_000
        let extra = SampleData.objects(count: 4 * perWriter, dimensions: dimensions, seed: 99)
        let stop = StopFlag()
        var taken: [SnapshotInfo] = []
        var storagePauses: [Double] = []
        var slowestPut = Duration.zero, slowestPutDuringSnapshots = Duration.zero
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var slowest = Duration.zero
                    var index = writer * perWriter
                    while !stop.isSet && index < (writer + 1) * perWriter {
                        let started = ContinuousClock.now
                        try await db.put(Array(extra[index..<index + 10]), into: "articles")
                        slowest = max(slowest, ContinuousClock.now - started)
                        index += 10
                    }
                    return slowest
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            for _ in 0..<snapshots {
                taken.append(try await db.createSnapshot(label: "bench"))
                try await Task.sleep(for: .milliseconds(50))
            }
            for _ in 0..<snapshots {
                let token = try await db.beginStorageSnapshot(label: "bench")
                storagePauses.append(token.label.writerPauseMilliseconds)
                try await token.end()
            }
            stop.set()
            for try await slowest in group { slowestPutDuringSnapshots = max(slowestPutDuringSnapshots, slowest) }
        }
        // The same writers without snapshots, for comparison.
        try await withThrowingTaskGroup(of: Duration.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    var slowest = Duration.zero
                    for index in stride(from: writer * perWriter, to: writer * perWriter + 2_000, by: 10) {
                        let started = ContinuousClock.now
                        try await db.put(Array(extra[index..<index + 10]), into: "articles")
                        slowest = max(slowest, ContinuousClock.now - started)
                    }
                    return slowest
                }
            }
            for try await slowest in group { slowestPut = max(slowestPut, slowest) }
        }
        await db.close()
        let report = await Database.verify(at: path)
        print(String(format: "verify   %8d objects: %@, %d files, %.0f MB in %.3f s = %.2f GB/s; storage-snapshot begin: writer pause max %.3f ms",
                     count, report.isConsistent ? "consistent" : "NOT consistent", report.checkedFiles, Double(report.checkedBytes) / 1e6,
                     report.seconds, Double(report.checkedBytes) / report.seconds / 1e9, storagePauses.max() ?? 0))
        let times = taken.map(\.creationMilliseconds).sorted()
        print(String(format: "snapshot %8d objects: %d files; creation median %.2f ms, max %.2f ms; writer pause (WAL seal) max %.3f ms; "
                     + "slowest put of 4 writers %.2f ms during snapshots, %.2f ms without",
                     count, taken.last?.fileCount ?? 0, times[times.count / 2], times.last ?? 0,
                     taken.map(\.writerPauseMilliseconds).max() ?? 0, slowestPutDuringSnapshots.seconds * 1000, slowestPut.seconds * 1000))
    }

    /// Restart after an unclean stop: once with everything replayed from the WAL, once with a
    /// checkpoint taken just before (a few writes after it).
    private func restart(_ count: Int) async throws {
        var walOnly = EngineOptions()
        walOnly.memtableFlushBytes = Int.max
        walOnly.checkpointWALBytes = Int.max
        walOnly.checkpointInterval = .infinity
        for checkpointed in [false, true] {
            let path = freshDirectory("restart")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let db = try await Database.open(at: path, options: walOnly)
            try await db.createCollection(schema)
            try await load(db, count: count)
            if checkpointed {
                try await db.flush()
                try await db.put(SampleData.objects(count: 1000, dimensions: dimensions, seed: 7), into: "articles")
            }
            let replayBytes = db.stats().walBytesSinceCheckpoint
            // Closing does not checkpoint: the next open replays exactly what a crash would leave.
            await db.close()
            let started = ContinuousClock.now
            let reopened = try await Database.open(at: path, options: walOnly)
            let seconds = (ContinuousClock.now - started).seconds
            let objects = try reopened.count("articles")
            await reopened.close()
            print(String(format: "restart  %8d objects, %@: open %.1f ms (replayed %@ of WAL; %d objects)",
                         count, checkpointed ? "recent checkpoint" : "everything in the WAL",
                         seconds * 1000, ByteCountFormatter.string(fromByteCount: Int64(replayBytes), countStyle: .binary), objects))
        }
    }
}

/// A flag one task sets and others poll.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
