@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Backup and restore")
struct BackupRestoreTests {
    /// A database with every layer: two collections (one multi-tenant with an active and an
    /// inactive tenant), ingestion configuration, an alias, a role and a user; flushed segments
    /// and writes still only in the WAL.
    static func populate(_ engine: Engine, generator: inout SeededGenerator) async throws {
        try await engine.createCollection(CollectionSchema(
            name: "articles", dimensions: 8, metric: .cosine,
            properties: [PropertyDefinition(name: "title", type: PropertyType(.text))],
            ingestion: .object(["model": .string("minilm"), "field": .string("title")])))
        try await engine.createCollection(CollectionSchema(name: "per_customer", dimensions: 4, metric: .l2, multiTenant: true))
        try await engine.addTenant("acme", to: "per_customer")
        try await engine.addTenant("globex", to: "per_customer")
        try await engine.setAlias("news", to: "articles")
        try await engine.putRole(Role(name: "reader", permissions: [Permission(action: .read, collection: "articles")]))
        try await engine.putUser(User(name: "ana", roles: ["reader"], apiKeyHashes: ["ab" + String(repeating: "0", count: 62)]))
        for round in 0..<3 {
            try await engine.put((0..<400).map { index in
                NewObject(properties: ["title": .string("article \(round)-\(index)")], vector: generator.vector(8))
            }, collection: "articles")
            try await engine.put((0..<100).map { _ in NewObject(vector: generator.vector(4)) }, collection: "per_customer", tenant: "acme")
            try await engine.put((0..<50).map { _ in NewObject(vector: generator.vector(4)) }, collection: "per_customer", tenant: "globex")
            if round < 2 { try await engine.flush() }
        }
        try await engine.setTenantState("globex", of: "per_customer", to: .inactive)
        // Created after the last checkpoint: known only from the WAL.
        try await engine.createCollection(CollectionSchema(name: "late", dimensions: 2, metric: .l2))
        try await engine.put([NewObject(vector: [1, 2]), NewObject(vector: [3, 4])], collection: "late")
    }

    /// A populated database in `directory/db` and an empty repository in `directory/repo`.
    static func fixture(in directory: TemporaryDirectory, generator: inout SeededGenerator) async throws -> (Engine, Repository) {
        let engine = try await Engine.open(at: directory.appending("db"))
        try await populate(engine, generator: &generator)
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        return (engine, repository)
    }

    /// Every object of every active partition, by partition and id.
    static func contents(_ engine: Engine) throws -> [String: [UUID: StoredObject]] {
        var result: [String: [UUID: StoredObject]] = [:]
        for (key, active) in engine.catalog.partitionsByLoadedState where active {
            let tenant = key.tenant == PartitionKey.defaultTenant ? nil : key.tenant
            var objects: [UUID: StoredObject] = [:]
            var cursor: UUID?
            while true {
                let page = try engine.scroll(collection: key.collection, tenant: tenant, after: cursor, limit: 500)
                for object in page { objects[object.id] = object }
                guard let last = page.last else { break }
                cursor = last.id
            }
            result[key.description] = objects
        }
        return result
    }

    @Test("every layer comes back: objects, vectors, schemas with ingestion config, tenants in every state, aliases, access control")
    func roundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 21)
        let (engine, repository) = try await Self.fixture(in: directory, generator: &generator)
        let info = try await repository.backup(engine, tags: ["nightly"], engineVersion: "test")
        #expect(info.tags == ["nightly"] && info.statistics.filesReused == 0 && info.statistics.bytesAdded > 0)
        #expect(info.summary.first { $0.tenant == "acme" }?.objects == 300)
        #expect(info.summary.first { $0.tenant == "globex" }?.objects == nil, "an inactive tenant is kept, not counted")
        #expect(engine.listSnapshots().isEmpty, "the backup's recovery point is gone when it ends")
        let expected = try Self.contents(engine)
        let catalog = engine.catalog
        let sourceID = engine.databaseID

        #expect(try await repository.backupDetails(info.id).catalog == catalog, "every layer as of the recovery point")
        let report = try await repository.restore(info.id, to: directory.appending("restored"))
        #expect(report.objectsVerified == 1502 && report.partitionsVerified == 3)
        let restored = try await Engine.open(at: directory.appending("restored"))
        #expect(restored.catalog == catalog, "schemas, ingestion configuration, tenants and their states, aliases, roles and users")
        #expect(restored.databaseID != sourceID, "a restored database gets a new id")
        #expect(try Self.contents(restored) == expected)
        _ = try await restored.setTenantState("globex", of: "per_customer", to: .active)
        #expect(try restored.count(collection: "per_customer", tenant: "globex") == 150, "the inactive tenant's data came back")
        await restored.close()
        await engine.close()
    }

    @Test("a second backup reuses every unchanged segment without reading it and adds little")
    func incremental() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 22)
        let (engine, repository) = try await Self.fixture(in: directory, generator: &generator)
        let first = try await repository.backup(engine, engineVersion: "test")
        try await engine.put((0..<10).map { _ in NewObject(properties: ["title": .string("new")], vector: generator.vector(8)) }, collection: "articles")
        let second = try await repository.backup(engine, engineVersion: "test")
        #expect(second.statistics.filesReused >= 6, "reused \(second.statistics.filesReused) of \(first.statistics.files) files")
        #expect(second.statistics.bytesAdded * 5 < first.statistics.bytesAdded,
                "added \(second.statistics.bytesAdded) bytes after \(first.statistics.bytesAdded)")
        #expect(try await repository.backups().map(\.id) == [first.id, second.id])
        let report = try await repository.restore(second.id, to: directory.appending("restored"))
        #expect(report.objectsVerified == 1512)
        await engine.close()
    }

    @Test("restore refuses a non-empty target and a backup whose paths leave the target, writing nothing")
    func refusals() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 23)
        let (engine, repository) = try await Self.fixture(in: directory, generator: &generator)
        let info = try await repository.backup(engine, engineVersion: "test")
        await engine.close()
        try FileManager.default.createDirectory(atPath: directory.appending("busy"), withIntermediateDirectories: true)
        try Data([1]).write(to: URL(fileURLWithPath: directory.appending("busy/notes.txt")))
        await #expect(throws: CairnError.self) { _ = try await repository.restore(info.id, to: directory.appending("busy")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.appending("busy")) == ["notes.txt"])

        try await Self.expectRestoreRefusal(of: info.id, in: repository, target: directory.appending("fp"), reason: "content fingerprint") {
            $0.summary[0].fingerprint = ContentFingerprint()
        }
        try await Self.expectRestoreRefusal(of: info.id, in: repository, target: directory.appending("gq"), reason: "golden query") {
            $0.summary[0].goldenQueries![0].hits.swapAt(0, 1)
        }

        var hostile = try await repository.loadBackup(info.id)
        hostile.files[0].path = "../../escaped.seg"
        #expect(throws: RepositoryError.self) { try Repository.checkPaths(hostile) }
        hostile.files[0].path = "/etc/passwd"
        #expect(throws: RepositoryError.self) { try Repository.checkPaths(hostile) }
    }
}

extension BackupRestoreTests {
    /// Rewrites backup `id`'s manifest with `change` (as only someone holding the key could),
    /// then expects its restore to fail naming `reason` and to leave no target.
    static func expectRestoreRefusal(of id: String, in repository: Repository, target: String, reason: String,
                                     _ change: (inout BackupManifest) -> Void) async throws {
        let original = try await repository.loadBackup(id)
        var altered = original
        change(&altered)
        func write(_ manifest: BackupManifest) async throws {
            try await repository.backend.delete(BackupManifest.objectName(id))
            try await repository.backend.put(BackupManifest.objectName(id),
                                             SealedObject.seal(try JSONEncoder.sorted.encode(manifest).bytes, kind: "backup", key: repository.key))
        }
        try await write(altered)
        do {
            _ = try await repository.restore(id, to: target)
            Issue.record("a restore against an altered summary (\(reason)) succeeded")
        } catch let error as RepositoryError {
            #expect(error.description.contains(reason), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: target), "a restore that fails its proof leaves no target")
        try await write(original)
    }
}

@Suite("Repository check")
struct RepositoryCheckTests {
    @Test("a pack altered or deleted is named with the backups it affects; restoring such a backup fails naming it")
    func damagedAndMissingPacks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 31)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 16, metric: .l2))
        try await engine.put((0..<3000).map { _ in NewObject(vector: generator.vector(16)) }, collection: "c")
        try await engine.flush()
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        let backup = try await repository.backup(engine, engineVersion: "test")
        await engine.close()
        #expect(try await repository.check(readData: true).problems.isEmpty)

        let pack = try #require(try await repository.backend.list("data/").first)
        let path = directory.appending("repo/" + pack.name)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count / 2] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try await repository.check().problems.isEmpty, "the structure is intact; only reading the data finds a flipped bit")
        let read = try await repository.check(readData: true)
        #expect(read.problems.map(\.object) == [pack.name] && read.problems.first?.affectedBackups == [backup.id], "\(read.problems)")
        await #expect(throws: RepositoryError.self) { _ = try await repository.restore(backup.id, to: directory.appending("restored")) }
        #expect(!FileManager.default.fileExists(atPath: directory.appending("restored")), "a failed restore leaves no target")

        try FileManager.default.removeItem(atPath: path)
        let structure = try await repository.check()
        #expect(structure.problems.contains { $0.object == pack.name && $0.detail.contains("missing") && $0.affectedBackups == [backup.id] },
                "\(structure.problems)")
    }
}

@Suite("Backups under power cuts")
struct BackupPowerLossTests {
    @Test("a power cut at any step of a backup (full; partial with source files) leaves a repository whose backups all restore, and the next backup works",
          arguments: [false, true])
    func backupSurvivesPowerCuts(partialWithSources: Bool) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 41)
        let engine = try await Engine.open(at: directory.appending("db"))
        let source = directory.appending("source.bin")
        FileManager.default.createFile(atPath: source, contents: Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 8, metric: .l2, sources: partialWithSources ? [source] : []))
        try await engine.createCollection(CollectionSchema(name: "other", dimensions: 8, metric: .l2))
        try await engine.put((0..<50).map { _ in NewObject(vector: generator.vector(8)) }, collection: "other")
        let scope = partialWithSources ? PartitionScope(collections: ["c"]) : PartitionScope()
        for _ in 0..<2 {
            try await engine.put((0..<300).map { _ in NewObject(vector: generator.vector(8)) }, collection: "c")
            try await engine.flush()
        }
        var cut = 0, restores = 0
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            let backend = LocalBackend(root: "/repo", fileSystem: fs)
            let repository = try await Repository.initialize(backend, credential: .password("pw"), scryptLogN: RepositoryKeyTests.testCost)
            let first = try await repository.backup(engine, scope: scope, engineVersion: "test")
            try await engine.put((0..<20).map { _ in NewObject(vector: generator.vector(8)) }, collection: "c")
            if partialWithSources {
                FileManager.default.createFile(atPath: source, contents: Data((0..<(3 << 20)).map { _ in UInt8.random(in: 0...255, using: &generator) }))
            }
            fs.cutPower(afterOperations: cut)
            let interrupted = (try? await repository.backup(engine, scope: scope, engineVersion: "test")) == nil
            fs.crash()
            let reopened = try await Repository.open(backend, credential: .password("pw"))
            let listed = try await reopened.backups()
            #expect(listed.contains { $0.id == first.id }, "cut \(cut): the finished backup is still listed")
            for backup in listed {
                let target = directory.appending("restored-\(cut)-\(backup.id)")
                _ = try await reopened.restore(backup.id, to: target)
                try FileManager.default.removeItem(atPath: target)
                restores += 1
            }
            let next = try await reopened.backup(engine, scope: scope, engineVersion: "test")
            let target = directory.appending("restored-\(cut)-next")
            let expected = try engine.count(collection: "c") + (partialWithSources ? 0 : engine.count(collection: "other"))
            #expect(try await reopened.restore(next.id, to: target).objectsVerified == expected)
            if partialWithSources {
                #expect(FileManager.default.contents(atPath: target + "/sources/c/source.bin") == FileManager.default.contents(atPath: source))
            }
            try FileManager.default.removeItem(atPath: target)
            if !interrupted { break }
            cut += 1
        }
        #expect(cut >= 5, "a backup makes several durable steps (\(cut))")
        #expect(restores > cut)
        await engine.close()
    }
}
