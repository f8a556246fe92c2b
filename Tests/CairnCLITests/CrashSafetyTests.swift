import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Kills `cairn import` with SIGKILL at seeded random moments, while it ingests, flushes and
/// compacts, and checks after each kill that the database opens and holds every acknowledged
/// object intact and nothing that was never written.
@Suite("Crash safety")
struct CrashSafetyTests {
    static let rounds = 30
    static let objectsPerRound = 400
    static let dimensions = 32

    @Test("every acknowledged object survives SIGKILL during ingest, flush and compaction")
    func killDuringImport() async throws {
        let directory = TemporaryDirectory("cairn-crash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        let create = try cli.run(["collection", "create", "docs", "--dimensions", String(Self.dimensions), "--metric", "l2",
                                  "--property", "title:text", "--property", "year:int", "--property", "lang:keyword"])
        try #require(create.status == 0, "\(create.stderr)")

        var generator = SeededGenerator(seed: 2026)
        let all = SampleData.objects(count: Self.rounds * Self.objectsPerRound, dimensions: Self.dimensions, seed: 77)
        let expected = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        var acknowledged: [NewObject] = []
        var attempted = 0
        var killedWhileRunning = 0

        for round in 0..<Self.rounds {
            let chunk = Array(all[(round * Self.objectsPerRound)..<((round + 1) * Self.objectsPerRound)])
            let file = directory.appending("round-\(round).jsonl")
            let ack = directory.appending("ack-\(round)")
            try SampleData.jsonl(chunk).write(toFile: file, atomically: true, encoding: .utf8)
            let process = try cli.start(["import", "docs", file, "--batch-size", "20", "--ack-file", ack,
                                         "--memtable-flush-bytes", "16384", "--compaction-segments", "3"])
            // Kill after a seeded number of acknowledged batches (0: during startup and recovery)
            // plus a seeded few milliseconds, so kills land in ingest, flush and compaction alike.
            let batchesBeforeKill = Int(generator.next() % 11)
            while process.isRunning, Self.acknowledgedLines(ack) < batchesBeforeKill * 20 {
                try await Task.sleep(for: .milliseconds(1))
            }
            try await Task.sleep(for: .milliseconds(Int(generator.next() % 20)))
            if process.isRunning { killedWhileRunning += 1 }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            attempted += chunk.count

            acknowledged += chunk.prefix(Self.acknowledgedLines(ack))

            let db = try await Database.open(at: data)
            for object in acknowledged {
                let stored = try #require(try db.get(object.id, from: "docs"), "acknowledged object lost after kill in round \(round)")
                #expect(stored.vector == object.vector)
                #expect(stored.properties == object.properties)
            }
            let present = try db.scroll("docs", limit: attempted + 1)
            #expect(present.count >= acknowledged.count && present.count <= attempted)
            for object in present {
                let original = try #require(expected[object.id], "an object that was never written appeared")
                #expect(object.vector == original.vector && object.properties == original.properties)
            }
            await db.close()
        }
        #expect(killedWhileRunning >= 20, "too few kills landed while the import ran")
        let db = try await Database.open(at: data)
        let stats = db.stats()
        await db.close()
        #expect(stats.manifestSequence > 10, "the imports should have flushed and compacted many times")
    }

    @Test("SIGKILL while a flush writes a quantized segment's graph or codes loses nothing; the next flush writes them whole",
          arguments: ["segment-graph-written", "segment-codes-written"])
    func killWhileWritingCodes(point: String) async throws {
        let directory = TemporaryDirectory("cairn-crash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        let objects = try Self.importQuantized(2_500, seed: 78, in: directory, cli: cli)

        let flush = try cli.start(["flush"], environment: ["CAIRN_CRASH_AT": point])
        flush.waitUntilExit()
        #expect(flush.terminationReason == .uncaughtSignal, "killed at \(point)")
        do {
            let db = try await Database.open(at: data)
            #expect(try db.count("docs") == 2_500, "every acknowledged object is replayed from the WAL")
            #expect(db.stats().searchMemory.codeBytes == 0, "the half-written segment is not used")
            await db.close()
        }
        #expect(try cli.run(["flush"]).status == 0)
        let db = try await Database.open(at: data)
        #expect(try db.count("docs") == 2_500)
        #expect(db.stats().searchMemory.codeBytes > 0, "the segment carries its codes")
        let hits = try db.search(objects[42].vector, in: "docs", limit: 1, fields: [])
        #expect(hits.first?.object.id == objects[42].id)
        await db.close()
        #expect(try cli.run(["verify"]).status == 0)
    }

    @Test("SIGKILL while a flush writes a segment's blocks before its sign sketches loses nothing; the next flush writes them whole")
    func killBeforeSketchesWritten() async throws {
        let directory = TemporaryDirectory("cairn-crash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        #expect(try cli.run(["collection", "create", "docs", "--dimensions", "32", "--metric", "l2",
                            "--property", "title:text", "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let objects = SampleData.objects(count: 2_500, dimensions: 32, seed: 80)
        let file = directory.appending("objects.jsonl")
        try SampleData.jsonl(objects).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "docs", file, "--memtable-flush-bytes", "1000000000"]).status == 0)

        let flush = try cli.start(["flush"], environment: ["CAIRN_CRASH_AT": "segment-codes-written"])
        flush.waitUntilExit()
        #expect(flush.terminationReason == .uncaughtSignal)
        do {
            let db = try await Database.open(at: data)
            #expect(try db.count("docs") == 2_500, "every acknowledged object is replayed from the WAL")
            #expect(db.stats().searchMemory.sketchBytes == 0, "the half-written segment is not used")
            await db.close()
        }
        #expect(try cli.run(["flush"]).status == 0)
        let db = try await Database.open(at: data)
        #expect(db.stats().searchMemory.sketchBytes > 0, "the segment carries its sketches")
        let hits = try db.search(objects[42].vector, in: "docs", limit: 1, fields: [])
        #expect(hits.first?.object.id == objects[42].id)
        await db.close()
        #expect(try cli.run(["verify"]).status == 0)
    }

    @Test("SIGKILL after a search-settings change reached the WAL, before it applied or answered: the reopened catalog holds it, and the next flush follows it")
    func killAfterTuneLogged() async throws {
        let directory = TemporaryDirectory("cairn-crash")
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        let objects = try Self.importQuantized(600, seed: 79, in: directory, cli: cli)

        let tune = try cli.start(["collection", "set", "docs", "--ef-search", "50", "--quantization", "none"],
                                 environment: ["CAIRN_CRASH_AT": "wal-synced"])
        tune.waitUntilExit()
        #expect(tune.terminationReason == .uncaughtSignal, "killed once the record was synced")

        let db = try await Database.open(at: data)
        let schema = try db.collection(named: "docs")
        #expect(schema.hnsw.efSearch == 50 && schema.quantization == nil, "the synced record is replayed")
        #expect(try db.count("docs") == 600)
        try await db.flush()
        #expect(db.stats().searchMemory.codeBytes == 0, "the flush after the replayed change writes no codes")
        let hits = try db.search(objects[7].vector, in: "docs", limit: 1, fields: [])
        #expect(hits.first?.object.id == objects[7].id)
        await db.close()
        #expect(try cli.run(["verify"]).status == 0)
    }

    /// Creates the int8 cosine collection `docs` (8-d) and imports `count` seeded objects into its
    /// memtable (no flush); returns them.
    static func importQuantized(_ count: Int, seed: UInt64, in directory: TemporaryDirectory, cli: CLIRunner) throws -> [NewObject] {
        #expect(try cli.run(["collection", "create", "docs", "--dimensions", "8", "--metric", "cosine", "--quantization", "int8",
                            "--property", "title:text", "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let objects = SampleData.objects(count: count, dimensions: 8, seed: seed)
        let file = directory.appending("objects.jsonl")
        try SampleData.jsonl(objects).write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try cli.run(["import", "docs", file, "--memtable-flush-bytes", "1000000000"])
        #expect(imported.status == 0, "\(imported.stderr)")
        return objects
    }

    /// The number of input lines the import reported as committed.
    static func acknowledgedLines(_ path: String) -> Int {
        (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").compactMap { Int($0) }.last ?? 0
    }
}
