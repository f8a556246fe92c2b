@testable import CairnEngine
import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Snapshots that are damaged, foreign or misused: refused before anything changes, flagged in
/// listings, and never allowed to crowd out the safety snapshot that matters.
@Suite("Damaged snapshots and safety-snapshot retention")
struct SnapshotDamageTests {
    /// Replaces a file by a changed copy, so hard links elsewhere keep the original bytes.
    private func rewrite(_ path: String, _ change: (inout [UInt8]) -> Void) throws {
        var bytes = try LocalFileSystem().readFile(path)
        change(&bytes)
        try LocalFileSystem().remove(path)
        try LocalFileSystem().writeNewFile(path, bytes)
    }

    /// A populated database, a snapshot of it, and every layer changed afterwards (closed).
    private func databaseWithSnapshot(_ directory: TemporaryDirectory) async throws -> (SnapshotInfo, before: SnapshotTests.Contents, after: SnapshotTests.Contents) {
        let db = try await Database.open(at: directory.path)
        try await SnapshotTests.populate(db)
        let snapshot = try await db.createSnapshot(label: "good")
        let before = try SnapshotTests.contents(db)
        try await SnapshotTests.changeEverything(db)
        let after = try SnapshotTests.contents(db)
        await db.close()
        return (snapshot, before, after)
    }

    private func contents(_ directory: TemporaryDirectory) async throws -> SnapshotTests.Contents {
        let db = try await Database.open(at: directory.path)
        defer { Task { await db.close() } }
        let contents = try SnapshotTests.contents(db)
        await db.close()
        return contents
    }

    @Test("a snapshot missing a WAL file is refused by rollback and clone, flagged by list, and the database is untouched")
    func missingWALFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _, after) = try await databaseWithSnapshot(directory)
        let wal = directory.path + "/snapshots/\(snapshot.id)/wal"
        for name in try LocalFileSystem().listDirectory(wal) { try LocalFileSystem().remove(wal + "/" + name) }
        await #expect {
            try await Database.rollback(at: directory.path, to: snapshot.id)
        } throws: { error in
            guard case let CairnError.snapshotDamaged(id, problems) = error else { return false }
            return id == snapshot.id && !problems.isEmpty
        }
        await #expect(throws: CairnError.self) {
            try await Database.clone(snapshot: snapshot.id, of: directory.path, to: directory.appending("clone"))
        }
        #expect(!LocalFileSystem().exists(directory.appending("clone")))
        #expect(try await contents(directory) == after)
        let db = try await Database.open(at: directory.path)
        let listed = try #require(db.snapshots().first { $0.snapshot.id == snapshot.id })
        #expect(listed.problems.contains { $0.contains("is missing") })
        #expect(try await !db.verifySnapshot(snapshot.id).isConsistent)
        // The failed rollback left no safety snapshot behind: the manual one and the one
        // taken before a tenant was removed are all there is.
        #expect(db.snapshots().count == 2)
        await db.close()
    }

    @Test("a flipped byte in a snapshot's WAL is found before the rollback switches; the database still opens")
    func corruptWALByte() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (snapshot, _, after) = try await databaseWithSnapshot(directory)
        let wal = directory.path + "/snapshots/\(snapshot.id)/wal"
        let file = try wal + "/" + LocalFileSystem().listDirectory(wal).last!
        try rewrite(file) { $0[$0.count / 2] ^= 0x01 }
        await #expect(throws: CairnError.self) { try await Database.rollback(at: directory.path, to: snapshot.id) }
        #expect(try await contents(directory) == after)
        let db = try await Database.open(at: directory.path)
        let report = try await db.verifySnapshot(snapshot.id)
        #expect(report.problems.first?.file == file)
        // `list` looks at sizes only; `verify` reads the bytes.
        #expect(db.snapshots().first?.problems == [])
        await db.close()
    }

    @Test("rollback works on a database that does not open, and keeps its files in a snapshot")
    func rollbackOfUnopenableDatabase() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await SnapshotTests.populate(db)
        let snapshot = try await db.createSnapshot()
        let before = try SnapshotTests.contents(db)
        try await db.put(SampleData.objects(count: 40, dimensions: 8, seed: 11), into: "articles")
        await db.close()
        let manifest = try ManifestStore(fs: LocalFileSystem(), directory: directory.path).loadCurrent()
        let live = directory.path + "/wal/" + WALFormat.fileName(manifest.walStartSequence + 1)
        try rewrite(live) { $0[WALFormat.fileHeaderSize + 30] ^= 0x01 }
        await #expect(throws: CairnError.self) { try await Database.open(at: directory.path) }
        let report = try await Database.rollback(at: directory.path, to: snapshot.id)
        #expect(report.warning != nil)
        let kept = try #require(report.safetySnapshot)
        #expect(try await contents(directory) == before)
        let reopened = try await Database.open(at: directory.path)
        #expect(reopened.snapshots().contains { $0.snapshot.id == kept.id })
        await reopened.close()
    }

    @Test("a snapshot copied in from another database is refused")
    func foreignSnapshot() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let first = directory.appending("a"), second = directory.appending("b")
        let a = try await Database.open(at: first)
        try await a.createCollection(SampleData.schema(dimensions: 8))
        let snapshot = try await a.createSnapshot()
        await a.close()
        let b = try await Database.open(at: second)
        await b.close()
        try FileManager.default.createDirectory(atPath: second + "/snapshots", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: first + "/snapshots/" + snapshot.id, toPath: second + "/snapshots/" + snapshot.id)
        await #expect {
            try await Database.rollback(at: second, to: snapshot.id)
        } throws: { error in
            if case .snapshotOfAnotherDatabase = error as? CairnError { return true }
            return false
        }
    }

    @Test("a snapshot whose description is unreadable is listed as damaged and can be deleted")
    func unreadableDescription() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        let snapshot = try await db.createSnapshot()
        try rewrite(directory.path + "/snapshots/\(snapshot.id)/snapshot.json") { $0 = Array($0.prefix(10)) }
        let listed = db.snapshots()
        #expect(listed.map(\.snapshot.id) == [snapshot.id])
        #expect(!listed[0].problems.isEmpty)
        try db.deleteSnapshot(snapshot.id)
        #expect(db.snapshots().isEmpty)
        await db.close()
    }

    @Test("failed operations take no safety snapshot, and imports never evict the one taken before a drop")
    func safetySnapshotRetention() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.safetySnapshots.bulkImportObjects = 5
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(SampleData.schema(name: "precious", dimensions: 8))
        try await db.put(SampleData.objects(count: 20, dimensions: 8, seed: 1), into: "precious")
        try await db.createCollection(SampleData.schema(name: "c", dimensions: 8))
        try await db.dropCollection("precious")
        let bad = directory.appending("bad.jsonl"), good = directory.appending("good.jsonl")
        try (#"{"vector":[1]}"# + "\n" + SampleData.jsonl(SampleData.objects(count: 10, dimensions: 8, seed: 2)))
            .write(toFile: bad, atomically: true, encoding: .utf8)
        for _ in 0..<6 {
            await #expect(throws: CairnError.self) { try await db.importJSONL(from: bad, into: "c") }
        }
        #expect(db.snapshots().count == 1)
        await #expect(throws: CairnError.self) { try await db.dropCollection("nope") }
        for seed in 0..<7 {
            try SampleData.jsonl(SampleData.objects(count: 10, dimensions: 8, seed: 100 + UInt64(seed))).write(toFile: good, atomically: true, encoding: .utf8)
            _ = try await db.importJSONL(from: good, into: "c")
        }
        let snapshots = db.snapshots()
        #expect(snapshots.filter { $0.snapshot.trigger.retentionGroup == "bulk import" }.count == 5)
        let drop = try #require(snapshots.first { $0.snapshot.trigger.retentionGroup == "drop collection" })
        #expect(drop.retention.contains("drop collection"))
        await db.close()
    }

    @Test("labels are for people: long ones and control characters are refused")
    func labels() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        await #expect(throws: CairnError.self) { try await db.createSnapshot(label: String(repeating: "x", count: 10_000)) }
        await #expect(throws: CairnError.self) { try await db.createSnapshot(label: "a\u{1B}[31mred") }
        await #expect(throws: CairnError.self) { try await db.createSnapshot(label: "two\nlines") }
        #expect(db.snapshots().isEmpty)
        _ = try await db.createSnapshot(label: "before-migration ünïcode")
        await db.close()
    }

    @Test("a clone inside the data directory is refused; a trailing slash is fine; a failed clone leaves nothing")
    func cloneTargets() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        let snapshot = try await db.createSnapshot()
        await db.close()
        for inside in [data + "/segments/articles", data + "/snapshots/x", data, data + "/../data/clone"] {
            await #expect(throws: CairnError.self) { try await Database.clone(snapshot: snapshot.id, of: data, to: inside) }
        }
        _ = try await Database.clone(snapshot: snapshot.id, of: data, to: directory.appending("clone") + "/")
        #expect(LocalFileSystem().exists(directory.appending("clone/CURRENT")))
        #expect(try LocalFileSystem().listDirectory(directory.path).sorted() == ["clone", "data"])
        let reopened = try await Database.open(at: data)
        #expect(reopened.snapshots().count == 1)
        await reopened.close()
    }
}
