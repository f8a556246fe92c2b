import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Kills `cairn snapshot create` and `cairn snapshot rollback` at every named step (crash points)
/// and at seeded random moments, and checks that the database always opens with the old or the
/// new state, never a mix, and that no half-made snapshot is ever listed.
@Suite("Crash safety of snapshots")
struct SnapshotCrashTests {
    static let rounds = 12

    /// A database with 300 objects in a segment plus 100 in the WAL, and a snapshot of it.
    private func prepare(_ data: String) async throws -> (small: SnapshotInfo, large: SnapshotInfo) {
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(dimensions: 16))
        try await db.put(SampleData.objects(count: 300, dimensions: 16, seed: 1), into: "articles")
        try await db.flush()
        let small = try await db.createSnapshot(label: "small")
        try await db.put(SampleData.objects(count: 100, dimensions: 16, seed: 2), into: "articles")
        try await db.setAlias("current", to: "articles")
        let large = try await db.createSnapshot(label: "large")
        await db.close()
        return (small, large)
    }

    /// How long `cairn <arguments>` takes uninterrupted on this machine right now, so kills can
    /// be spread over the whole run whatever the load: the shortest of three runs, since one run
    /// stalled by other tests made every later kill land after the command had finished.
    private func measure(_ cli: CLIRunner, _ arguments: [String]) throws -> Duration {
        var shortest: Duration?
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let result = try cli.run(arguments)
            try #require(result.status == 0, "\(result.stderr)")
            shortest = min(shortest ?? .seconds(3600), ContinuousClock.now - started)
        }
        return shortest!
    }

    /// Kills `process` after a seeded fraction (5%–110%) of `duration`; returns whether it was
    /// still running then. The wait blocks this thread rather than suspending: a task's sleep can
    /// last far longer than asked while other tests keep the concurrency pool busy.
    private func kill(_ process: Process, within duration: Duration, using generator: inout SeededGenerator) async throws -> Bool {
        let delay = duration * (0.05 + Double(generator.next() % 1000) / 1000 * 1.05)
        usleep(useconds_t(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000))
        let running = process.isRunning
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return running
    }

    @Test("SIGKILL while a snapshot is created leaves a database that opens and lists only whole snapshots")
    func killDuringCreate() async throws {
        let directory = TemporaryDirectory("cairn-snapcrash")
        defer { directory.remove() }
        let data = directory.appending("data")
        _ = try await prepare(data)
        let cli = CLIRunner(dataDirectory: data)
        var generator = SeededGenerator(seed: 404)
        let duration = try measure(cli, ["snapshot", "create", "--label", "measured"])
        var killedWhileRunning = 0
        for round in 0..<Self.rounds {
            let process = try cli.start(["snapshot", "create", "--label", "round-\(round)"])
            if try await kill(process, within: duration, using: &generator) { killedWhileRunning += 1 }
            let db = try await Database.open(at: data)
            #expect(try db.count("articles") == 400)
            let listed = db.snapshots()
            await db.close()
            #expect(!FileSystemProbe.hasPartialSnapshot(data), "round \(round): a partial snapshot survived reopening")
            // Every listed snapshot is whole: a clone of the newest opens with all its objects.
            let newest = try #require(listed.last?.snapshot)
            let target = directory.appending("clone-\(round)")
            _ = try await Database.clone(snapshot: newest.id, of: data, to: target)
            let clone = try await Database.open(at: target)
            #expect(try clone.count("articles") == 400, "round \(round)")
            await clone.close()
        }
        #expect(killedWhileRunning >= 1, "no kill landed while the command ran")
    }

    @Test("a crash at each step of snapshot creation leaves no snapshot listed and the database whole",
          arguments: ["snapshot-sealed", "snapshot-linked", "snapshot-described"])
    func crashPointsOfCreate(point: String) async throws {
        let directory = TemporaryDirectory("cairn-snapcrash")
        defer { directory.remove() }
        let data = directory.appending("data")
        _ = try await prepare(data)
        let cli = CLIRunner(dataDirectory: data)
        let process = try cli.start(["snapshot", "create", "--label", "crashed"], environment: ["CAIRN_CRASH_AT": point])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        let db = try await Database.open(at: data)
        #expect(try db.count("articles") == 400)
        #expect(!db.snapshots().contains { $0.snapshot.label == "crashed" })
        _ = try await db.createSnapshot(label: "after")
        await db.close()
        #expect(!FileSystemProbe.hasPartialSnapshot(data))
    }

    @Test("a crash at each step of a rollback leaves the old state before the manifest switch and the new one after",
          arguments: [("rollback-safety-taken", false), ("rollback-segments-linked", false), ("rollback-wal-linked", false),
                      ("rollback-wal-started", false), ("rollback-published", true)])
    func crashPointsOfRollback(point: String, switched: Bool) async throws {
        let directory = TemporaryDirectory("cairn-snapcrash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let (small, large) = try await prepare(data)
        let cli = CLIRunner(dataDirectory: data)
        let process = try cli.start(["snapshot", "rollback", small.id], environment: ["CAIRN_CRASH_AT": point])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        do {
            let db = try await Database.open(at: data)
            #expect(try db.count("articles") == (switched ? 300 : 400))
            #expect(db.aliases() == (switched ? [:] : ["current": "articles"]))
            try await db.put(SampleData.objects(count: 1, dimensions: 16, seed: 9), into: "articles")
            await db.close()
        }
        // The database goes on working: a full rollback afterwards succeeds.
        _ = try await Database.rollback(at: data, to: large.id)
        let db = try await Database.open(at: data)
        #expect(try db.count("articles") == 400)
        await db.close()
    }

    @Test("SIGKILL during a rollback leaves either the old or the new state, never a mix")
    func killDuringRollback() async throws {
        let directory = TemporaryDirectory("cairn-snapcrash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let (small, large) = try await prepare(data)
        let cli = CLIRunner(dataDirectory: data)
        var generator = SeededGenerator(seed: 505)
        let duration = try measure(cli, ["snapshot", "rollback", small.id])
        _ = try await Database.rollback(at: data, to: large.id)
        var killedWhileRunning = 0
        for round in 0..<Self.rounds {
            let process = try cli.start(["snapshot", "rollback", small.id])
            if try await kill(process, within: duration, using: &generator) { killedWhileRunning += 1 }
            let db = try await Database.open(at: data)
            let count = try db.count("articles")
            let aliases = db.aliases()
            await db.close()
            // The old state has 400 objects and the alias; the snapshot has 300 and no alias.
            #expect((count == 400 && aliases == ["current": "articles"]) || (count == 300 && aliases.isEmpty),
                    "round \(round): \(count) objects, aliases \(aliases)")
            if count == 300 { _ = try await Database.rollback(at: data, to: large.id) }
        }
        #expect(killedWhileRunning >= 1, "no kill landed while the command ran")
    }
}

/// Looks into a data directory from outside the engine.
enum FileSystemProbe {
    static func hasPartialSnapshot(_ data: String) -> Bool {
        ((try? FileManager.default.contentsOfDirectory(atPath: data + "/snapshots")) ?? []).contains { $0.hasPrefix(".partial-") }
    }
}
