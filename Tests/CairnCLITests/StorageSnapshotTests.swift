import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Copies of a data directory taken by an outside tool (`cp -r` here), with and without the
/// database's coordination, and `verify` on good and damaged copies.
@Suite("Storage snapshots")
struct StorageSnapshotTests {
    /// `cp -r source target` with the system's cp.
    static func copy(_ source: String, to target: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/cp")
        process.arguments = ["-r", source, target]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
    }

    /// Acknowledged ids, shared between writer tasks and the test.
    final class Acknowledged: @unchecked Sendable {
        private let lock = NSLock()
        private var ids = Set<UUID>()
        func add(_ new: [UUID]) { lock.withLock { ids.formUnion(new) } }
        var all: Set<UUID> { lock.withLock { ids } }
    }

    @Test("copies taken with cp -r between begin and end while 4 writers insert open with every write acknowledged before begin")
    func coordinatedCopies() async throws {
        let directory = TemporaryDirectory("cairn-storage")
        defer { directory.remove() }
        let data = directory.appending("data")
        var options = EngineOptions()
        options.memtableFlushBytes = 48 << 10
        options.compactionSegmentCount = 3
        let db = try await Database.open(at: data, options: options)
        try await db.createCollection(SampleData.schema(dimensions: 8, metric: .l2))
        let objects = SampleData.objects(count: 8_000, dimensions: 8, seed: 21)
        let byID = Dictionary(uniqueKeysWithValues: objects.map { ($0.id, $0) })
        let acknowledged = Acknowledged()
        let copies = 10
        var expectations: [(copy: String, before: Set<UUID>)] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    for start in stride(from: writer * 2_000, to: (writer + 1) * 2_000, by: 10) {
                        let batch = Array(objects[start..<start + 10])
                        try await db.put(batch, into: "articles")
                        acknowledged.add(batch.map(\.id))
                    }
                }
            }
            for round in 0..<copies {
                let before = acknowledged.all
                let token = try await db.beginStorageSnapshot(label: "copy-\(round)")
                #expect(token.label.startLSN > 0)
                let target = directory.appending("copy-\(round)")
                try Self.copy(data, to: target)
                try await token.end()
                expectations.append((target, before))
            }
            try await group.waitForAll()
        }
        await db.close()
        for (target, before) in expectations {
            let report = await Database.verify(at: target)
            #expect(report.isConsistent, "\(target): \(report.problems)")
            let copy = try await Database.open(at: target)
            let present = try copy.scroll("articles", limit: 10_000)
            let ids = Set(present.map(\.id))
            #expect(before.isSubset(of: ids), "\(target) lost \(before.subtracting(ids).count) acknowledged objects")
            for object in present { #expect(byID[object.id]?.vector == object.vector, "an object that was never written appeared") }
            await copy.close()
        }
    }

    @Test("uncoordinated copies during ingest, flush and compaction open as a prefix or are refused with a file named")
    func uncoordinatedCopies() async throws {
        let directory = TemporaryDirectory("cairn-storage")
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        let create = try cli.run(["collection", "create", "docs", "--dimensions", "16", "--metric", "l2",
                                  "--property", "title:text", "--property", "year:int", "--property", "lang:keyword"])
        try #require(create.status == 0, "\(create.stderr)")
        let all = SampleData.objects(count: 6_000, dimensions: 16, seed: 31)
        let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
        var generator = SeededGenerator(seed: 32)
        var opened = 0, refused = 0, copies = 0
        for part in 0..<3 {
            let file = directory.appending("part-\(part).jsonl")
            try SampleData.jsonl(Array(all[(part * 2_000)..<((part + 1) * 2_000)])).write(toFile: file, atomically: true, encoding: .utf8)
            let process = try cli.start(["import", "docs", file, "--batch-size", "20", "--no-safety-snapshot",
                                         "--memtable-flush-bytes", "24576", "--compaction-segments", "3"])
            while process.isRunning || copies < (part + 1) * 7 {
                guard copies < (part + 1) * 7 else { break }
                try await Task.sleep(for: .milliseconds(Int(generator.next() % 25)))
                try Self.copy(data, to: directory.appending("copy-\(copies)"))
                copies += 1
            }
            process.waitUntilExit()
        }
        for index in 0..<copies {
            let target = directory.appending("copy-\(index)")
            do {
                let copy = try await Database.open(at: target)
                for object in try copy.scroll("docs", limit: 10_000) {
                    let original = try #require(byID[object.id], "copy \(index): an object that was never written appeared")
                    #expect(original.vector == object.vector && original.properties == object.properties)
                }
                await copy.close()
                opened += 1
            } catch let CairnError.corruption(file, _, _) {
                #expect(file.hasPrefix(target), "copy \(index) was refused, naming a file outside it: \(file)")
                refused += 1
            }
        }
        #expect(copies >= 20)
        #expect(opened + refused == copies)
    }

    @Test("verify passes a good copy and names the file of each kind of damage",
          arguments: ["deleted segment", "truncated segment", "flipped bit", "WAL gap"])
    func verifyFindsDamage(damage: String) async throws {
        let directory = TemporaryDirectory("cairn-storage")
        defer { directory.remove() }
        let data = directory.appending("data")
        var options = EngineOptions()
        options.walFileBytes = 8 << 10
        let db = try await Database.open(at: data, options: options)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        try await db.put(SampleData.objects(count: 300, dimensions: 8, seed: 41), into: "articles")
        try await db.flush()
        for seed in 42..<48 { try await db.put(SampleData.objects(count: 40, dimensions: 8, seed: UInt64(seed)), into: "articles") }
        await db.close()
        let good = await Database.verify(at: data)
        #expect(good.isConsistent, "\(good.problems)")
        #expect(good.checkedFiles >= 4 && good.lastLSN! > good.checkpointLSN!)

        let segments = try FileManager.default.subpathsOfDirectory(atPath: data + "/segments").filter { $0.hasSuffix(".seg") }
        let segment = data + "/segments/" + segments[0]
        let walFiles = try FileManager.default.contentsOfDirectory(atPath: data + "/wal").filter { $0.hasSuffix(".log") }.sorted()
        try #require(walFiles.count >= 3)
        let damaged: String
        switch damage {
        case "deleted segment":
            try FileManager.default.removeItem(atPath: segment)
            damaged = segment
        case "truncated segment":
            let handle = try #require(FileHandle(forUpdatingAtPath: segment))
            try handle.truncate(atOffset: 1000)
            try handle.close()
            damaged = segment
        case "flipped bit":
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: segment)))
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: segment))
            damaged = segment
        default:
            try FileManager.default.removeItem(atPath: data + "/wal/" + walFiles[1])
            damaged = data + "/wal/" + walFiles[1]
        }
        let report = await Database.verify(at: data)
        #expect(!report.isConsistent)
        #expect(report.problems.contains { $0.file == damaged }, "\(report.problems)")
        // The CLI says the same, with exit status 1.
        let result = try CLIRunner(dataDirectory: data).run(["verify", data], passingData: false)
        #expect(result.status == 1)
        #expect(result.stdout.contains(damaged))
    }
}
