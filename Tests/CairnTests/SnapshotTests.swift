import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("Local snapshots")
struct SnapshotTests {
    /// Every layer a snapshot must bring back, as one comparable value.
    struct Contents: Equatable {
        var catalog: Catalog
        var objects: [String: [StoredObject]]
    }

    static func contents(_ db: Database) throws -> Contents {
        var objects: [String: [StoredObject]] = [:]
        for schema in db.collections() {
            if schema.multiTenant {
                for tenant in try db.tenants(of: schema.name) where tenant.state == .active {
                    objects["\(schema.name)/\(tenant.name)"] = try db.scroll(schema.name, tenant: tenant.name, limit: 100_000)
                }
            } else {
                objects[schema.name] = try db.scroll(schema.name, limit: 100_000)
            }
        }
        return Contents(catalog: db.engine.catalog, objects: objects)
    }

    /// A database with every layer: two collections (one multi-tenant), objects in segments and
    /// in the WAL, an alias, a role and a user.
    static func populate(_ db: Database) async throws {
        try await db.createCollection(SampleData.schema(dimensions: 8))
        try await db.createCollection(SampleData.schema(name: "notes", dimensions: 8, multiTenant: true))
        try await db.addTenant("acme", to: "notes")
        try await db.put(SampleData.objects(count: 300, dimensions: 8, seed: 1), into: "articles")
        try await db.flush()
        try await db.put(SampleData.objects(count: 100, dimensions: 8, seed: 2), into: "articles")
        try await db.put(SampleData.objects(count: 50, dimensions: 8, seed: 3), into: "notes", tenant: "acme")
        try await db.setAlias("current", to: "articles")
        try await db.putRole(Role(name: "reader", permissions: [Permission(action: .read)]))
        _ = try await db.createUser("ann", roles: ["reader"])
    }

    /// Changes every layer.
    static func changeEverything(_ db: Database) async throws {
        let first = try db.scroll("articles", limit: 10)
        try await db.delete(first.map(\.id), from: "articles")
        try await db.put(SampleData.objects(count: 70, dimensions: 8, seed: 4), into: "articles")
        try await db.flush()
        try await db.removeTenant("acme", from: "notes")
        try await db.removeAlias("current")
        try await db.deleteUser("ann")
        try await db.createCollection(SampleData.schema(name: "extra", dimensions: 4))
    }

    @Test("rollback returns every layer to the snapshot, and its safety snapshot undoes it")
    func rollback() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let snapshot: SnapshotInfo, before: Contents, after: Contents
        do {
            let db = try await Database.open(at: directory.path)
            try await Self.populate(db)
            snapshot = try await db.createSnapshot(label: "before-migration")
            before = try Self.contents(db)
            try await Self.changeEverything(db)
            after = try Self.contents(db)
            #expect(after != before)
            await db.close()
        }
        let report = try await Database.rollback(at: directory.path, to: snapshot.id)
        #expect(report.snapshot.lsn == snapshot.lsn)
        do {
            let db = try await Database.open(at: directory.path)
            #expect(try Self.contents(db) == before)
            // The rolled-back database takes writes and checkpoints normally.
            try await db.put(SampleData.objects(count: 5, dimensions: 8, seed: 5), into: "articles")
            try await db.flush()
            #expect(try db.count("articles") == 405)
            await db.close()
        }
        let safety = try #require(report.safetySnapshot)
        _ = try await Database.rollback(at: directory.path, to: safety.id)
        let db = try await Database.open(at: directory.path)
        #expect(try Self.contents(db) == after)
        await db.close()
    }

    @Test("a clone holds every layer and is independent of the original")
    func clone() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let original = try await Database.open(at: directory.path)
        try await Self.populate(original)
        let snapshot = try await original.createSnapshot()
        let before = try Self.contents(original)
        let elsewhere = TemporaryDirectory()
        defer { elsewhere.remove() }
        let target = elsewhere.appending("clone")
        _ = try await Database.clone(snapshot: snapshot.id, of: directory.path, to: target)
        let clone = try await Database.open(at: target)
        #expect(try Self.contents(clone) == before)
        #expect(clone.stats().snapshots == 0)

        let cloneOnly = SampleData.objects(count: 3, dimensions: 8, seed: 6)
        let originalOnly = SampleData.objects(count: 4, dimensions: 8, seed: 7)
        try await clone.put(cloneOnly, into: "articles")
        try await clone.flush()
        try await original.put(originalOnly, into: "articles")
        try await original.flush()
        #expect(try clone.get(originalOnly[0].id, from: "articles") == nil)
        #expect(try original.get(cloneOnly[0].id, from: "articles") == nil)
        #expect(try clone.count("articles") == 403)
        #expect(try original.count("articles") == 404)
        await clone.close()
        await original.close()
        // Cloning into a directory that holds something is refused.
        await #expect(throws: CairnError.targetNotEmpty(path: target)) {
            _ = try await Database.clone(snapshot: snapshot.id, of: directory.path, to: target)
        }
    }

    @Test("a snapshot taken while 4 writers insert holds exactly the writes acknowledged up to its LSN")
    func snapshotDuringWrites() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        let writers = 4, batches = 60
        let objects = SampleData.objects(count: writers * batches * 5, dimensions: 8, seed: 8)
        let snapshot = try await withThrowingTaskGroup(of: [(UInt64, [UUID])].self) { group -> (SnapshotInfo, [(UInt64, [UUID])]) in
            for writer in 0..<writers {
                group.addTask {
                    var acknowledged: [(UInt64, [UUID])] = []
                    for batch in 0..<batches {
                        let start = (writer * batches + batch) * 5
                        let chunk = Array(objects[start..<start + 5])
                        acknowledged.append((try await db.engine.put(chunk, collection: "articles"), chunk.map(\.id)))
                        if batch == batches / 2 && writer == 0 { try await db.flush() }
                    }
                    return acknowledged
                }
            }
            try await Task.sleep(for: .milliseconds(30))
            let snapshot = try await db.createSnapshot()
            var all: [(UInt64, [UUID])] = []
            for try await part in group { all += part }
            return (snapshot, all)
        }
        await db.close()
        let (info, acknowledged) = snapshot
        let expected = Set(acknowledged.filter { $0.0 <= info.lsn }.flatMap(\.1))
        #expect(!expected.isEmpty && expected.count < objects.count, "the snapshot should land in the middle of the writes")
        let elsewhere = TemporaryDirectory()
        defer { elsewhere.remove() }
        let target = elsewhere.appending("clone")
        _ = try await Database.clone(snapshot: info.id, of: directory.path, to: target)
        let clone = try await Database.open(at: target)
        #expect(Set(try clone.scroll("articles", limit: 10_000).map(\.id)) == expected)
        await clone.close()
    }

    @Test("deleting a snapshot frees only the files nothing else links to")
    func deleteFreesOnlyExclusiveFiles() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 2
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        try await db.put(SampleData.objects(count: 200, dimensions: 8, seed: 9), into: "articles")
        try await db.flush()
        let first = try await db.createSnapshot(label: "first")
        #expect(try db.snapshot(first.id).exclusiveBytes == 0, "every file is still live")
        try await db.put(SampleData.objects(count: 200, dimensions: 8, seed: 10), into: "articles")
        try await db.flush() // compaction merges the two segments: the first segment is now only in snapshots
        try await db.compact()
        let second = try await db.createSnapshot(label: "second")
        let firstSegment = try #require(first.fileCount > 0 ? try db.snapshot(first.id) : nil)
        #expect(firstSegment.exclusiveBytes > 0, "the first snapshot alone holds the pre-compaction segment")
        try db.deleteSnapshot(first.id)
        #expect(throws: CairnError.snapshotNotFound(first.id)) { try db.snapshot(first.id) }
        // The second snapshot and the database are untouched.
        await db.close()
        let elsewhere = TemporaryDirectory()
        defer { elsewhere.remove() }
        let target = elsewhere.appending("clone")
        _ = try await Database.clone(snapshot: second.id, of: directory.path, to: target)
        let clone = try await Database.open(at: target)
        #expect(try clone.count("articles") == 400)
        await clone.close()
        let reopened = try await Database.open(at: directory.path)
        #expect(try reopened.count("articles") == 400)
        #expect(reopened.snapshots().map(\.snapshot.id) == [second.id])
        await reopened.close()
    }

    @Test("risky operations take safety snapshots, pruned to the newest keepLast of each kind")
    func safetySnapshots() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.safetySnapshots.keepLast = 2
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(SampleData.schema(dimensions: 8, multiTenant: true))
        let manual = try await db.createSnapshot(label: "mine")
        for name in ["a", "b", "c"] { try await db.addTenant(name, to: "articles") }
        try await db.removeTenant("a", from: "articles")
        try await db.removeTenant("b", from: "articles")
        try await db.removeTenant("c", from: "articles")
        try await db.addTenant("c", to: "articles")
        try await db.dropCollection("articles")
        let snapshots = db.snapshots().map(\.snapshot)
        #expect(snapshots.first?.id == manual.id, "manual snapshots are never pruned")
        let automatic = snapshots.filter(\.trigger.isAutomatic)
        #expect(automatic.map(\.trigger) == [.safety(operation: "remove tenant b of articles"), .safety(operation: "remove tenant c of articles"),
                                               .safety(operation: "drop collection articles")])
        // The safety snapshot before the drop still has the collection.
        await db.close()
        let elsewhere = TemporaryDirectory()
        defer { elsewhere.remove() }
        let target = elsewhere.appending("before-drop")
        _ = try await Database.clone(snapshot: automatic[2].id, of: directory.path, to: target)
        let clone = try await Database.open(at: target)
        #expect(try clone.tenants(of: "articles").map(\.name) == ["c"])
        await clone.close()
        // Rolling back to the oldest kept safety snapshot works: the rollback's own safety
        // snapshot never prunes its target.
        _ = try await Database.rollback(at: directory.path, to: automatic[0].id, options: options)
        let rolledBack = try await Database.open(at: directory.path, options: options)
        #expect(try rolledBack.tenants(of: "articles").map(\.name) == ["b", "c"])
        await rolledBack.close()
    }

    @Test("the checkpoint policy flushes once the WAL since the checkpoint passes its size, and stats report it")
    func checkpointPolicy() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.memtableFlushBytes = Int.max
        options.checkpointWALBytes = 64 << 10
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        try await db.put(SampleData.objects(count: 20, dimensions: 8, seed: 11), into: "articles")
        let small = db.stats()
        #expect(small.checkpointLSN == 0 && small.walBytesSinceCheckpoint > 0 && small.estimatedReplaySeconds > 0)
        for seed in 12..<20 { try await db.put(SampleData.objects(count: 100, dimensions: 8, seed: UInt64(seed)), into: "articles") }
        // The flush runs in the background: wait for it (bounded), then check what it did.
        var waited = 0
        while db.stats().checkpointLSN == 0 && waited < 2_000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        let stats = db.stats()
        #expect(stats.checkpointLSN > 0, "the WAL passed 64 KiB: a checkpoint should have been taken")
        #expect(stats.walBytesSinceCheckpoint < 64 << 10)
        await db.close()
    }
}
