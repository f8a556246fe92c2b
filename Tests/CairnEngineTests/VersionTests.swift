@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Version set")
struct VersionTests {
    private func record(_ id: String, tenant: String = "_default", tenantLSN: UInt64 = 1) -> Manifest.SegmentRecord {
        Manifest.SegmentRecord(id: id, partition: PartitionKey(collection: "c", tenant: tenant),
                               incarnation: PartitionIncarnation(collectionLSN: 1, tenantLSN: tenantLSN),
                               rows: 1, tombstones: 0, bytes: 10, crc32c: 0)
    }

    @Test("an edit makes the next manifest: a merge takes the place of its oldest input; a checkpoint drops removed partitions")
    func editsMakeTheNextManifest() throws {
        var catalog = Catalog()
        try catalog.apply(.createCollection(CollectionSchema(name: "c", dimensions: 2, metric: .l2)), lsn: 1)
        let manifest = Manifest(databaseID: "d", sequence: 7, checkpointLSN: 5, walStartSequence: 2, restoredWAL: ["restored-1"],
                                catalog: catalog, segments: ["a", "b", "c", "d"].map { record($0) }, writtenAt: 0)
        let merged = try #require(manifest.applying(.merge(inputs: ["b", "c"], output: record("m")), at: 9))
        #expect(merged.segments.map(\.id) == ["a", "m", "d"])
        #expect(merged.sequence == 8 && merged.writtenAt == 9 && merged.checkpointLSN == 5 && merged.restoredWAL == ["restored-1"])
        #expect(manifest.applying(.merge(inputs: ["b", "x"], output: record("m"))) == nil, "an input that is not live")
        #expect(try #require(manifest.applying(.merge(inputs: ["a"], output: nil))).segments.map(\.id) == ["b", "c", "d"])

        var stale = manifest
        stale.segments.append(record("old", tenantLSN: 0))
        let checkpoint = try #require(stale.applying(.checkpoint(lsn: 40, catalog: catalog, walStartSequence: 6, added: [record("new")])))
        #expect(checkpoint.segments.map(\.id) == ["a", "b", "c", "d", "new"], "the segment of another incarnation is dropped")
        #expect(checkpoint.checkpointLSN == 40 && checkpoint.walStartSequence == 6 && checkpoint.restoredWAL == nil)
    }

    @Test("a reader that captured a version keeps reading its segments after a compaction deletes their files")
    func capturedVersionOutlivesCompaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 100 // compaction only when asked below
        var generator = SeededGenerator(seed: 3)
        let engine = try await Engine.open(at: directory.path, options: options)
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 4, metric: .l2))
        var written: [NewObject] = []
        for _ in 0..<4 {
            let batch = (0..<50).map { _ in NewObject(vector: generator.vector(4)) }
            written += batch
            try await engine.put(batch, collection: "c")
            try await engine.flush()
        }
        #expect(try engine.state.withLock { try $0.partition("c", tenant: nil).segments.count } == 4)
        await engine.close()

        options.compactionSegmentCount = 4
        let reopened = try await Engine.open(at: directory.path, options: options)
        let before = try reopened.state.withLock { try $0.partition("c", tenant: nil).segments }
        try await reopened.compact()
        let (after, manifest) = try reopened.state.withLock { (try $0.partition("c", tenant: nil).segments, $0.version.manifest) }
        #expect(after.count == 1)
        #expect(manifest == (try reopened.manifests.loadCurrent()), "the version is the one CURRENT names")
        #expect(after.map(\.record) == manifest.segments)
        for loaded in before { #expect(!FileManager.default.fileExists(atPath: directory.path + "/" + loaded.record.relativePath)) }
        var read = 0
        for loaded in before {
            let segment = try #require(loaded.segment)
            for row in 0..<segment.rowCount where written.contains(where: { $0.id == segment.id(at: row) }) { read += 1 }
        }
        #expect(read == written.count, "every row of the replaced files is still readable through the captured version")
        #expect(try reopened.count(collection: "c") == written.count)
        await reopened.close()
    }

    @Test("deactivating a tenant unmaps its segments in a new version; activating maps them again with their dead rows")
    func tenantStateChangesTheVersion() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 4)
        let engine = try await Engine.open(at: directory.path)
        try await engine.createCollection(CollectionSchema(name: "mt", dimensions: 4, metric: .l2, multiTenant: true))
        try await engine.addTenant("a", to: "mt")
        let objects = (0..<40).map { _ in NewObject(vector: generator.vector(4)) }
        try await engine.put(objects, collection: "mt", tenant: "a")
        try await engine.flush()
        try await engine.put([NewObject(id: objects[0].id, vector: generator.vector(4))], collection: "mt", tenant: "a")
        try await engine.flush()
        let mapped = { try engine.state.withLock { state in try state.view(of: PartitionKey(collection: "mt", tenant: "a")).segments.map { $0.segment != nil } } }
        #expect(try mapped() == [true, true])
        try await engine.setTenantState("a", of: "mt", to: .inactive)
        #expect(try mapped() == [false, false])
        try await engine.setTenantState("a", of: "mt", to: .active)
        #expect(try mapped() == [true, true])
        #expect(try engine.count(collection: "mt", tenant: "a") == 40, "the overwritten row is dead again")
        await engine.close()
    }
}
