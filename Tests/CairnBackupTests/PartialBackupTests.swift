@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Partial backups and restores, with renames")
struct PartialBackupTests {
    /// The fixture of `BackupRestoreTests`, plus a tenant that was removed and created again
    /// after the last checkpoint (its old objects must not come back) and a delete still in the WAL.
    private static func fixture(in directory: TemporaryDirectory) async throws -> (Engine, Repository) {
        var generator = SeededGenerator(seed: 33)
        let (engine, repository) = try await BackupRestoreTests.fixture(in: directory, generator: &generator)
        try await engine.addTenant("initech", to: "per_customer")
        try await engine.put((0..<10).map { _ in NewObject(vector: generator.vector(4)) }, collection: "per_customer", tenant: "initech")
        try await engine.removeTenant("initech", from: "per_customer")
        try await engine.addTenant("initech", to: "per_customer")
        try await engine.put((0..<5).map { _ in NewObject(vector: generator.vector(4)) }, collection: "per_customer", tenant: "initech")
        let acme = try engine.scroll(collection: "per_customer", tenant: "acme", after: nil, limit: 3)
        _ = try await engine.delete(acme.map(\.id), collection: "per_customer", tenant: "acme")
        return (engine, repository)
    }

    private static func open(_ path: String) async throws -> Engine {
        var options = EngineOptions()
        options.createIfMissing = false
        return try await Engine.open(at: path, options: options)
    }

    @Test("a backup of two tenants holds only them, and restores them with every layer their scope needs")
    func partialBackup() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (engine, repository) = try await Self.fixture(in: directory)
        let source = try BackupRestoreTests.contents(engine)
        let catalog = engine.catalog
        let scope = PartitionScope(collections: ["per_customer"], tenants: ["acme", "initech"])
        let info = try await repository.backup(engine, scope: scope, engineVersion: "test")
        await engine.close()

        #expect(info.scope == scope)
        #expect(Set(info.summary.map(\.tenant)) == ["acme", "initech"])
        #expect(info.summary.first { $0.tenant == "acme" }?.objects == 297)
        #expect(info.summary.first { $0.tenant == "initech" }?.objects == 5)
        let files = try await repository.backupDetails(info.id).files.map(\.path)
        #expect(files.contains { $0.hasPrefix("segments/per_customer/acme/") })
        #expect(files.allSatisfy { $0.hasPrefix("wal/") || $0.hasPrefix("segments/per_customer/acme/") },
                "nothing of other collections or tenants is stored: \(files)")

        let report = try await repository.restore(info.id, to: directory.appending("restored"))
        #expect(report.partitionsVerified == 2 && report.objectsVerified == 302 && report.fingerprintsVerified == 2)
        let restored = try await Self.open(directory.appending("restored"))
        defer { Task { await restored.close() } }
        let contents = try BackupRestoreTests.contents(restored)
        #expect(contents == source.filter { ["per_customer/acme", "per_customer/initech"].contains($0.key) })
        #expect(restored.catalog.collections == catalog.collections.filter { $0.key == "per_customer" })
        #expect(restored.catalog.tenants["per_customer"] == catalog.tenants["per_customer"]?.filter { $0.key != "globex" })
        #expect(restored.catalog.roles == catalog.roles && restored.catalog.users == catalog.users, "access control comes whole")
        #expect(restored.catalog.aliases.isEmpty, "the alias names a collection outside the scope")
        // The restored database is a working one: writes continue after the cut log.
        _ = try await restored.put([NewObject(vector: [1, 1, 1, 1])], collection: "per_customer", tenant: "initech")
        #expect(try restored.count(collection: "per_customer", tenant: "initech") == 6)
    }

    @Test("a restore takes one tenant or collection of a full backup, under a new name, with aliases and permissions following")
    func partialRenamedRestore() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (engine, repository) = try await Self.fixture(in: directory)
        let source = try BackupRestoreTests.contents(engine)
        let catalog = engine.catalog
        let info = try await repository.backup(engine, engineVersion: "test")
        await engine.close()

        let tenantScope = PartitionScope(collections: ["per_customer"], tenants: ["acme"], tenantRenames: ["acme": "acme_before"])
        let tenantReport = try await repository.restore(info.id, to: directory.appending("tenant"), scope: tenantScope)
        #expect(tenantReport.partitionsVerified == 1 && tenantReport.objectsVerified == 297)
        #expect(tenantReport.files < info.statistics.files, "only the tenant's files are fetched")
        let tenant = try await Self.open(directory.appending("tenant"))
        #expect(try BackupRestoreTests.contents(tenant) == ["per_customer/acme_before": source["per_customer/acme"]!])
        #expect(tenant.catalog.tenants["per_customer"]?.keys.sorted() == ["acme_before"])
        await tenant.close()

        // Named through its alias; created before the checkpoint, with writes after it.
        let collectionScope = PartitionScope(collections: ["news", "late"], collectionRenames: ["articles": "articles_restored"])
        let collectionReport = try await repository.restore(info.id, to: directory.appending("collection"), scope: collectionScope)
        #expect(collectionReport.partitionsVerified == 2)
        #expect(collectionReport.notes.contains { $0.contains("alias 'news'") })
        #expect(collectionReport.notes.contains { $0.contains("role 'reader'") })
        let collection = try await Self.open(directory.appending("collection"))
        defer { Task { await collection.close() } }
        #expect(try BackupRestoreTests.contents(collection) == ["articles_restored": source["articles"]!, "late": source["late"]!])
        var renamed = catalog.collections["articles"]!
        renamed.name = "articles_restored"
        #expect(collection.catalog.collections["articles_restored"] == renamed, "schema and ingestion configuration kept")
        #expect(collection.catalog.aliases == ["news": "articles_restored"])
        #expect(collection.catalog.roles["reader"]?.permissions == [Permission(action: .read, collection: "articles_restored")])
        #expect(collection.catalog.users == catalog.users)
    }

    @Test("a scope that names what the backup does not hold is refused before anything is written")
    func refusals() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (engine, repository) = try await Self.fixture(in: directory)
        await #expect(throws: RepositoryError.self) {
            _ = try await repository.backup(engine, scope: PartitionScope(collections: ["articles"], collectionRenames: ["articles": "x"]),
                                            engineVersion: "test")
        }
        await #expect(throws: CairnError.collectionNotFound("nope")) {
            _ = try await repository.backup(engine, scope: PartitionScope(collections: ["nope"]), engineVersion: "test")
        }
        let partial = try await repository.backup(engine, scope: PartitionScope(collections: ["articles"]), engineVersion: "test")
        // A full backup after the partial one reuses the segments it already stored.
        let full = try await repository.backup(engine, engineVersion: "test")
        #expect(full.statistics.filesReused >= 2)
        await engine.close()

        let target = directory.appending("restored")
        let refused: [(PartitionScope, CairnError)] = [
            (PartitionScope(collections: ["per_customer"]), .collectionNotFound("per_customer")),
            (PartitionScope(collections: ["articles"], tenants: ["acme"]), .tenantsNotEnabled(collection: "articles")),
        ]
        for (scope, error) in refused {
            await #expect(throws: error) { _ = try await repository.restore(partial.id, to: target, scope: scope) }
            #expect(!FileManager.default.fileExists(atPath: target))
        }
        await #expect(throws: CairnError.self) {
            _ = try await repository.restore(full.id, to: target, scope: PartitionScope(collections: ["articles"], collectionRenames: ["late": "x"]))
        }
        await #expect(throws: CairnError.self) {
            _ = try await repository.restore(full.id, to: target, scope: PartitionScope(tenants: ["acme"]))
        }
        #expect(!FileManager.default.fileExists(atPath: target))
    }
}

@Suite("Restores under power cuts")
struct RestorePowerLossTests {
    @Test("a power cut at any step of a partial, renamed restore with sources leaves no target or the whole one, and the restore can be run again")
    func restoreSurvivesPowerCuts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 44)
        let corpus = directory.appending("corpus")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: corpus + "/notes.txt", contents: Data("what the vectors were made from\n".utf8))
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 4, metric: .l2, multiTenant: true, sources: [corpus]))
        for tenant in ["acme", "globex"] {
            try await engine.addTenant(tenant, to: "docs")
            try await engine.put((0..<300).map { _ in NewObject(vector: generator.vector(4)) }, collection: "docs", tenant: tenant)
        }
        try await engine.flush()
        try await engine.put((0..<40).map { _ in NewObject(vector: generator.vector(4)) }, collection: "docs", tenant: "acme")
        let expected = try engine.count(collection: "docs", tenant: "acme")
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        let backup = try await repository.backup(engine, engineVersion: "test")
        await engine.close()

        let scope = PartitionScope(collections: ["docs"], tenants: ["acme"], collectionRenames: ["docs": "docs_before"],
                                   tenantRenames: ["acme": "acme_before"])
        var cut = 0
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            try fs.createDirectory("/restore")
            fs.cutPower(afterOperations: cut)
            let finished = (try? await repository.restore(backup.id, to: "/restore/target", scope: scope, fileSystem: fs)) != nil
            fs.crash()
            let present = try fs.exists("/restore/target") && !fs.listDirectory("/restore/target").isEmpty
            if present {
                var options = EngineOptions()
                options.fileSystem = fs
                options.createIfMissing = false
                let restored = try await Engine.open(at: "/restore/target", options: options)
                #expect(try restored.count(collection: "docs_before", tenant: "acme_before") == expected, "cut \(cut): the whole tenant")
                #expect(try fs.readFile("/restore/target/sources/docs_before/corpus/notes.txt") == Array("what the vectors were made from\n".utf8))
                await restored.close()
            } else {
                // Nothing there: running the restore again (with the power on) gives the whole tenant.
                let again = try await repository.restore(backup.id, to: "/restore/target", scope: scope, fileSystem: fs)
                #expect(again.objectsVerified == expected && again.sourceFiles == 1, "cut \(cut)")
            }
            if finished { break }
            cut += 1
        }
        #expect(cut >= 10, "a restore makes many durable steps (\(cut))")
    }
}
