@testable import CairnBackup
@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Restoring a tenant into the live database")
struct LiveRestoreTests {
    /// A live database of collection `docs` with tenants acme (flushed objects, a WAL tail and
    /// a delete) and globex, backed up; then acme is lost. Returns acme's contents at the backup.
    private static func fixture(_ engine: Engine, repository: Repository, generator: inout SeededGenerator) async throws
        -> (backup: BackupInfo, acme: [UUID: StoredObject]) {
        try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 8, metric: .l2,
                                                           properties: [PropertyDefinition(name: "n", type: PropertyType(.int))], multiTenant: true))
        for tenant in ["acme", "globex"] {
            try await engine.addTenant(tenant, to: "docs")
            try await engine.put((0..<300).map { i in NewObject(properties: ["n": .int(i)], vector: generator.vector(8)) },
                                 collection: "docs", tenant: tenant)
        }
        try await engine.flush()
        try await engine.put((0..<40).map { _ in NewObject(vector: generator.vector(8)) }, collection: "docs", tenant: "acme")
        let first = try engine.scroll(collection: "docs", tenant: "acme", after: nil, limit: 2).map(\.id)
        try await engine.delete(first, collection: "docs", tenant: "acme")
        let acme = try BackupRestoreTests.contents(engine)["docs/acme"]!
        let backup = try await repository.backup(engine, engineVersion: "test")
        try await engine.removeTenant("acme", from: "docs")
        return (backup, acme)
    }

    /// Whether a partition holds exactly `expected` (compared without printing both).
    static func same(_ found: [UUID: StoredObject]?, _ expected: [UUID: StoredObject]?) -> Bool { found == expected }

    private static func repository(in directory: TemporaryDirectory) async throws -> Repository {
        try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                        scryptLogN: RepositoryKeyTests.testCost)
    }

    @Test("a tenant restored while 4 writers and 2 searchers work on other tenants comes back whole; no acknowledged write is lost")
    func restoreUnderLoad() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 61)
        var options = EngineOptions()
        options.memtableFlushBytes = 64 << 10 // flushes (version edits) run while the tenant is attached
        let path = directory.appending("db")
        let engine = try await Engine.open(at: path, options: options)
        let repository = try await Self.repository(in: directory)
        let (backup, acme) = try await Self.fixture(engine, repository: repository, generator: &generator)
        let writers = (0..<4).map { "writer\($0)" }
        for tenant in writers { try await engine.addTenant(tenant, to: "docs") }

        let running = ManagedAtomicFlag()
        let load = Task {
            try await withThrowingTaskGroup(of: Set<UUID>.self) { group in
                for (index, tenant) in writers.enumerated() {
                    group.addTask {
                        var generator = SeededGenerator(seed: 100 + UInt64(index))
                        var acknowledged = Set<UUID>()
                        var rounds = 0
                        while running.isSet || rounds < 20 {
                            let batch = (0..<20).map { _ in NewObject(vector: generator.vector(8)) }
                            try await engine.put(batch, collection: "docs", tenant: tenant)
                            acknowledged.formUnion(batch.map(\.id))
                            rounds += 1
                        }
                        return acknowledged
                    }
                }
                for searcher in 0..<2 {
                    group.addTask {
                        var generator = SeededGenerator(seed: 200 + UInt64(searcher))
                        while running.isSet {
                            let hits = try engine.search(generator.vector(8), collection: "docs", tenant: "globex", limit: 5)
                            #expect(hits.count == 5)
                            await Task.yield()
                        }
                        return []
                    }
                }
                var all = Set<UUID>()
                for try await ids in group { all.formUnion(ids) }
                return all
            }
        }
        let report = try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme", replacing: false)
        running.clear()
        let acknowledged = try await load.value

        #expect(report.restore.objectsVerified == acme.count && !report.replaced)
        func check(_ engine: Engine, _ when: String) throws {
            let contents = try BackupRestoreTests.contents(engine)
            #expect(Self.same(contents["docs/acme"], acme), "\(when): the restored tenant is the backup's (\(contents["docs/acme"]?.count ?? -1) objects)")
            let written = Set(writers.flatMap { contents["docs/\($0)"]!.keys })
            #expect(acknowledged.isSubset(of: written), "\(when): every acknowledged write is there")
            #expect(contents["docs/globex"]?.count == 300)
            let summary = backup.summary.first { $0.tenant == "acme" }!
            #expect(try engine.digest(collection: "docs", tenant: "acme", goldenQueries: []).fingerprint == summary.fingerprint)
        }
        try check(engine, "live")
        #expect(!FileManager.default.fileExists(atPath: path + "/restore-staging"), "the staging directory is gone")
        await engine.close()

        // Reopened before a checkpoint names the tenant's files (replayed from the attachment
        // record), then after a flush and a compaction.
        var reopened = try await Engine.open(at: path, options: options)
        try check(reopened, "replayed")
        try await reopened.put([NewObject(vector: generator.vector(8))], collection: "docs", tenant: "writer0")
        try await reopened.flush()
        try await reopened.compact()
        await reopened.close()
        reopened = try await Engine.open(at: path, options: options)
        try check(reopened, "after a checkpoint")
        await reopened.close()
    }

    @Test("--replace swaps a tenant whole; a tenant that exists is refused without it; a collection stored otherwise is refused")
    func replaceAndRefusals() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 62)
        var engine = try await Engine.open(at: directory.appending("db"))
        let repository = try await Self.repository(in: directory)
        let (backup, acme) = try await Self.fixture(engine, repository: repository, generator: &generator)
        try await engine.addTenant("acme", to: "docs")
        try await engine.put((0..<7).map { _ in NewObject(vector: generator.vector(8)) }, collection: "docs", tenant: "acme")

        await #expect(throws: CairnError.self) {
            try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme", replacing: false)
        }
        #expect(try engine.count(collection: "docs", tenant: "acme") == 7, "refused: nothing changed")
        let replaced = try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme", replacing: true)
        #expect(replaced.replaced)
        #expect(Self.same(try BackupRestoreTests.contents(engine)["docs/acme"], acme))
        // The same backup under another name, beside it; a snapshot taken now holds both.
        _ = try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme_before", replacing: false)
        #expect(try engine.count(collection: "docs", tenant: "acme_before") == acme.count)
        let snapshot = try await engine.createSnapshot(label: "both")
        try await engine.removeTenant("acme_before", from: "docs")
        await engine.close()
        _ = try await Engine.rollback(directory: directory.appending("db"), to: snapshot.id)
        engine = try await Engine.open(at: directory.appending("db"))
        #expect(try engine.count(collection: "docs", tenant: "acme_before") == acme.count, "a snapshot keeps attached tenants")

        // A live collection whose objects are stored otherwise cannot take the files.
        try await engine.dropCollection("docs")
        try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 16, metric: .l2, multiTenant: true))
        let segmentFiles = { try FileManager.default.subpathsOfDirectory(atPath: directory.appending("db/segments")).filter { $0.hasSuffix(".seg") } }
        let before = try segmentFiles()
        await #expect(throws: CairnError.self) {
            try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme", replacing: false)
        }
        #expect(throws: CairnError.self) { try engine.count(collection: "docs", tenant: "acme") }
        #expect(try segmentFiles().sorted() == before.sorted(), "the refused restore leaves no segment file behind")
        await engine.close()
    }

    @Test("a whole collection restored into the live database beside itself, then over itself (its aliases stay), and a collection without tenants")
    func wholeCollections() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 65)
        let path = directory.appending("db")
        var engine = try await Engine.open(at: path)
        let repository = try await Self.repository(in: directory)
        _ = try await Self.fixture(engine, repository: repository, generator: &generator)
        try await engine.createCollection(CollectionSchema(name: "plain", dimensions: 8, metric: .cosine))
        try await engine.put((0..<50).map { _ in NewObject(vector: generator.vector(8)) }, collection: "plain")
        try await engine.addTenant("acme", to: "docs")
        try await engine.put((0..<7).map { _ in NewObject(vector: generator.vector(8)) }, collection: "docs", tenant: "acme")
        let backup = try await repository.backup(engine, engineVersion: "test")
        let before = try BackupRestoreTests.contents(engine)
        try await engine.setAlias("current", to: "docs")

        let beside = try await repository.restore(backup.id, collection: "docs", tenant: nil, into: engine, as: "docs_before", replacing: false)
        #expect(beside.tenant == nil && !beside.replaced && beside.restore.objectsVerified == 7 + 300)
        var contents = try BackupRestoreTests.contents(engine)
        #expect(Self.same(contents["docs_before/acme"], before["docs/acme"]) && Self.same(contents["docs_before/globex"], before["docs/globex"]))
        #expect(engine.catalog.collections["docs_before"]?.createdLSN == beside.lsn)

        try await engine.put((0..<5).map { _ in NewObject(vector: generator.vector(8)) }, collection: "docs", tenant: "globex")
        try await engine.removeTenant("acme", from: "docs")
        await #expect(throws: CairnError.self) {
            try await repository.restore(backup.id, collection: "docs", tenant: nil, into: engine, as: "docs", replacing: false)
        }
        let over = try await repository.restore(backup.id, collection: "docs", tenant: nil, into: engine, as: "docs", replacing: true)
        #expect(over.replaced)
        contents = try BackupRestoreTests.contents(engine)
        #expect(Self.same(contents["docs/acme"], before["docs/acme"]) && Self.same(contents["docs/globex"], before["docs/globex"]))
        #expect(engine.catalog.aliases == ["current": "docs"], "a replaced collection keeps its aliases")

        try await engine.dropCollection("plain")
        _ = try await repository.restore(backup.id, collection: "plain", tenant: nil, into: engine, as: "plain", replacing: false)
        #expect(Self.same(try BackupRestoreTests.contents(engine)["plain"], before["plain"]))
        await engine.close()
        engine = try await Engine.open(at: path)
        contents = try BackupRestoreTests.contents(engine)
        #expect(Self.same(contents["docs/acme"], before["docs/acme"]) && Self.same(contents["plain"], before["plain"]), "after replay")
        #expect(Self.same(contents["docs_before/globex"], before["docs/globex"]))
        await engine.close()
    }

    @Test("a partial backup taken before a checkpoint names an attached tenant's files still holds them")
    func backupOfAttachedTenant() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 63)
        let engine = try await Engine.open(at: directory.appending("db"))
        let repository = try await Self.repository(in: directory)
        let (backup, acme) = try await Self.fixture(engine, repository: repository, generator: &generator)
        _ = try await repository.restore(backup.id, collection: "docs", tenant: "acme", into: engine, as: "acme", replacing: false)
        let again = try await repository.backup(engine, scope: PartitionScope(collections: ["docs"], tenants: ["acme"]), engineVersion: "test")
        await engine.close()
        let report = try await repository.restore(again.id, to: directory.appending("copy"))
        #expect(report.objectsVerified == acme.count)
        var options = EngineOptions()
        options.createIfMissing = false
        let copy = try await Engine.open(at: directory.appending("copy"), options: options)
        #expect(Self.same(try BackupRestoreTests.contents(copy)["docs/acme"], acme))
        await copy.close()
    }
}

@Suite("Live tenant restore under power cuts")
struct LiveRestorePowerLossTests {
    @Test("a power cut at any step of a restore into the live database leaves no trace of the tenant or collection or all of it",
          arguments: [false, true])
    func powerCuts(wholeCollection: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        func options(_ fs: CrashSimulatingFileSystem) -> EngineOptions {
            var options = EngineOptions()
            options.fileSystem = fs
            return options
        }
        func liveDatabase(_ fs: CrashSimulatingFileSystem?) async throws -> Engine {
            var generator = SeededGenerator(seed: 64)
            let engine = if let fs { try await Engine.open(at: "/db", options: options(fs)) } else { try await Engine.open(at: directory.appending("source")) }
            try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 4, metric: .l2, multiTenant: true))
            for tenant in ["acme", "globex"] {
                try await engine.addTenant(tenant, to: "docs")
                try await engine.put((0..<120).map { _ in NewObject(vector: generator.vector(4)) }, collection: "docs", tenant: tenant)
                try await engine.flush()
            }
            try await engine.put((0..<30).map { _ in NewObject(vector: generator.vector(4)) }, collection: "docs", tenant: "acme")
            return engine
        }
        let source = try await liveDatabase(nil) // backed up from a real directory
        let backup = try await repository.backup(source, engineVersion: "test")
        let expected = try BackupRestoreTests.contents(source)
        await source.close()

        var cut = 0
        var attachedAt: Int?
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            let engine = try await liveDatabase(fs)
            try await engine.removeTenant("acme", from: "docs")
            let globex = try BackupRestoreTests.contents(engine)["docs/globex"]
            fs.cutPower(afterOperations: cut)
            let finished = (try? await repository.restore(backup.id, collection: "docs", tenant: wholeCollection ? nil : "acme", into: engine,
                                                          as: wholeCollection ? "docs_back" : "acme_back", replacing: false, fileSystem: fs)) != nil
            await engine.close()
            fs.crash()
            let reopened: Engine
            do { reopened = try await Engine.open(at: "/db", options: options(fs)) } catch {
                Issue.record("cut \(cut): the database does not open: \(error)")
                break
            }
            let contents = try BackupRestoreTests.contents(reopened)
            #expect(LiveRestoreTests.same(contents["docs/globex"], globex), "cut \(cut): the live tenant is untouched")
            // Restored partition → the backup's partition it must equal.
            let restoredAs = wholeCollection ? ["docs_back/acme": "docs/acme", "docs_back/globex": "docs/globex"] : ["docs/acme_back": "docs/acme"]
            let present = restoredAs.keys.filter { contents[$0] != nil }
            if !present.isEmpty {
                #expect(present.count == restoredAs.count, "cut \(cut): all of it or nothing: \(present)")
                for (restored, original) in restoredAs {
                    #expect(LiveRestoreTests.same(contents[restored], expected[original]), "cut \(cut): \(restored) whole")
                }
                attachedAt = attachedAt ?? cut
            } else {
                #expect(attachedAt == nil, "cut \(cut): once durable, it stays")
                #expect(contents.keys.sorted() == ["docs/globex"])
                let folder = wholeCollection ? "/db/segments/docs_back" : "/db/segments/docs/acme_back"
                #expect(try Self.files(under: folder, in: fs).isEmpty, "cut \(cut): no segment file of what was not attached stays")
            }
            #expect(!fs.exists("/db/restore-staging"), "cut \(cut): opening removes an unfinished staging directory")
            await reopened.close()
            // Opening again finds what the first open found: it deleted nothing the tenant needs.
            let again = try await Engine.open(at: "/db", options: options(fs))
            #expect(try BackupRestoreTests.contents(again).mapValues(\.count) == contents.mapValues(\.count), "cut \(cut): a second open")
            await again.close()
            if finished { break }
            cut += 1
        }
        #expect(cut >= 10 && attachedAt != nil, "a live restore makes many durable steps (\(cut)), and the last ones attach")
    }

    /// The files under `folder` (none if it does not exist).
    private static func files(under folder: String, in fs: CrashSimulatingFileSystem) throws -> [String] {
        guard fs.exists(folder) else { return [] }
        return try fs.listDirectory(folder).flatMap { name in
            fs.isDirectory(folder + "/" + name) ? try files(under: folder + "/" + name, in: fs) : [folder + "/" + name]
        }
    }
}

/// A flag tasks poll: set until cleared.
private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = true
    var isSet: Bool { lock.withLock { value } }
    func clear() { lock.withLock { value = false } }
}
