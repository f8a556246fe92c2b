@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Recovery")
struct RecoveryTests {
    let schema = CollectionSchema(name: "docs", dimensions: 8, metric: .l2, properties: [
        PropertyDefinition(name: "n", type: PropertyType(.int)),
    ])

    private func objects(_ range: Range<Int>, seed: UInt64 = 3) -> [NewObject] {
        var generator = SeededGenerator(seed: seed)
        return (0..<range.upperBound).map { index in
            NewObject(id: generator.uuid(), properties: ["n": .int(Int64(index))], vector: generator.vector(8))
        }.suffix(from: range.lowerBound).map { $0 }
    }

    @Test("every layer written through the WAL survives a reopen without a flush")
    func replayRestoresEveryLayer() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            try await engine.createCollection(CollectionSchema(name: "mt", dimensions: 2, multiTenant: true,
                                                               ingestion: .object(["model": .string("m1")])))
            try await engine.addTenant("a", to: "mt")
            try await engine.addTenant("b", to: "mt")
            try await engine.setTenantState("b", of: "mt", to: .inactive)
            try await engine.setAlias("current", to: "docs")
            try await engine.putRole(Role(name: "reader", permissions: [Permission(action: .read)]))
            try await engine.putUser(User(name: "ann", roles: ["reader"], apiKeyHashes: ["abc"]))
            try await engine.put(objects(0..<10), collection: "current")
            try await engine.put([NewObject(vector: [1, 0])], collection: "mt", tenant: "a")
            await engine.close()
        }
        let engine = try await Engine.open(at: directory.path)
        let catalog = engine.catalog
        #expect(catalog.collections.keys.sorted() == ["docs", "mt"])
        #expect(catalog.collections["mt"]?.ingestion == .object(["model": .string("m1")]))
        #expect(catalog.tenants["mt"]?["b"]?.state == .inactive)
        #expect(catalog.aliases == ["current": "docs"])
        #expect(catalog.users["ann"]?.apiKeyHashes == ["abc"])
        #expect(try engine.count(collection: "docs") == 10)
        #expect(try engine.count(collection: "mt", tenant: "a") == 1)
        #expect(throws: CairnError.tenantInactive(collection: "mt", tenant: "b")) { try engine.count(collection: "mt", tenant: "b") }
        await engine.close()
    }

    @Test("a torn WAL tail after a crash is cut off and the database keeps working")
    func tornTailOnOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let all = objects(0..<20)
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            for object in all { try await engine.put([object], collection: "docs") }
            await engine.close()
        }
        // A crash: no "closed" record, and the last write cut short.
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        let size = try LocalFileSystem().fileSize(wal) - WALFormat.controlRecord(.closed(lastLSN: 0)).count
        #expect(truncate(wal, off_t(size - 5)) == 0)
        do {
            let engine = try await Engine.open(at: directory.path)
            #expect(try engine.count(collection: "docs") == 19)
            #expect(try engine.get(all[19].id, collection: "docs") == nil)
            try await engine.put([all[19]], collection: "docs")
            await engine.close()
        }
        let engine = try await Engine.open(at: directory.path)
        #expect(try engine.count(collection: "docs") == 20)
        await engine.close()
    }

    @Test("corruption before the tail refuses to open, naming the file")
    func corruptionRefusesToOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            for object in objects(0..<20) { try await engine.put([object], collection: "docs") }
            await engine.close()
        }
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        var bytes = try LocalFileSystem().readFile(wal)
        bytes[bytes.count / 2] ^= 0x40
        try LocalFileSystem().writeNewFile(wal, bytes, exclusive: false)
        await #expect {
            try await Engine.open(at: directory.path)
        } throws: { error in
            guard case let CairnError.corruption(file, offset, _) = error else { return false }
            return file == wal && offset > 0 && offset < bytes.count / 2
        }
    }

    @Test("a corrupt segment is reported with its file, never loaded")
    func corruptSegment() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            try await engine.put(objects(0..<100), collection: "docs")
            try await engine.flush()
            await engine.close()
        }
        let folder = directory.path + "/segments/docs/_default"
        let segment = try folder + "/" + LocalFileSystem().listDirectory(folder)[0]
        var bytes = try LocalFileSystem().readFile(segment)
        bytes[SegmentFormat.headerSize + 100] ^= 0x01
        try LocalFileSystem().writeNewFile(segment, bytes, exclusive: false)
        await #expect(throws: CairnError.corruption(file: segment, offset: SegmentFormat.headerSize, detail: "vectors block fails its checksum")) {
            try await Engine.open(at: directory.path)
        }
    }

    @Test("a second process cannot open the same directory")
    func directoryLock() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await Engine.open(at: directory.path)
        await #expect(throws: CairnError.databaseLocked(path: directory.path)) { try await Engine.open(at: directory.path) }
        await engine.close()
        let again = try await Engine.open(at: directory.path)
        await again.close()
    }

    @Test("flush moves the checkpoint and deletes the WAL before it; deletes and overwrites survive compaction")
    func flushAndCompaction() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 2
        let all = objects(0..<300)
        do {
            let engine = try await Engine.open(at: directory.path, options: options)
            try await engine.createCollection(schema)
            for start in stride(from: 0, to: 300, by: 100) {
                try await engine.put(Array(all[start..<start + 100]), collection: "docs")
                try await engine.flush()
            }
            // Overwrite 10 objects and delete 10 more, in the memtable, then flush and compact.
            let changed = all[0..<10].map { NewObject(id: $0.id, properties: ["n": .int(-1)], vector: $0.vector) }
            try await engine.put(changed, collection: "docs")
            try await engine.delete(all[10..<20].map(\.id), collection: "docs")
            #expect(try engine.count(collection: "docs") == 290)
            try await engine.flush()
            let stats = engine.stats()
            #expect(stats.segments == 1)
            #expect(stats.walFiles == 1)
            #expect(stats.checkpointLSN == stats.lastLSN)
            await engine.close()
        }
        let engine = try await Engine.open(at: directory.path, options: options)
        #expect(try engine.count(collection: "docs") == 290)
        #expect(try engine.get(all[0].id, collection: "docs")?.properties["n"] == .int(-1))
        #expect(try engine.get(all[15].id, collection: "docs") == nil)
        #expect(try engine.count(collection: "docs", filter: .compare("n", .equal, .int(-1))) == 10)
        await engine.close()
    }
}
