@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Prune")
struct PruneTests {
    /// Changes the database a little: inserts, overwrites, deletes, and sometimes a flush or a
    /// compaction (which replaces segment files, leaving the older backups' files unneeded by newer ones).
    static func change(_ engine: Engine, generator: inout SeededGenerator, ids: inout [UUID]) async throws {
        let fresh = (0..<Int.random(in: 50...200, using: &generator)).map { _ in NewObject(vector: generator.vector(8)) }
        ids += fresh.map(\.id)
        try await engine.put(fresh, collection: "c")
        let overwritten = (0..<20).map { _ in ids[Int.random(in: 0..<ids.count, using: &generator)] }
        try await engine.put(Set(overwritten).map { NewObject(id: $0, vector: generator.vector(8)) }, collection: "c")
        try await engine.delete([ids.removeLast()], collection: "c")
        switch Int.random(in: 0..<3, using: &generator) {
        case 0: try await engine.flush()
        case 1: try await engine.flush(); try await engine.compact()
        default: break
        }
    }

    static func repository(in directory: TemporaryDirectory, fs: any FileSystem = LocalFileSystem(), root: String? = nil) async throws -> Repository {
        try await Repository.initialize(LocalBackend(root: root ?? directory.appending("repo"), fileSystem: fs),
                                        credential: .password("pw"), scryptLogN: RepositoryKeyTests.testCost)
    }

    static func storedBytes(_ repository: Repository) async throws -> Int {
        try await repository.backend.list("data/").reduce(0) { $0 + $1.size }
    }

    @Test("seeded sequences of backup, forget and prune never break a kept backup; prune frees what only forgotten backups needed",
          arguments: [51, 52, 53] as [UInt64])
    func randomSequences(seed: UInt64) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: seed)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 8, metric: .l2))
        let repository = try await Self.repository(in: directory)
        var ids: [UUID] = []
        for step in 0..<14 {
            try await Self.change(engine, generator: &generator, ids: &ids)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0:
                let report = try await repository.forget(RetentionPolicy(keepLast: Int.random(in: 1...3, using: &generator)), prune: true, grace: .zero)
                #expect(report.prune?.backups == report.decisions.filter(\.keep).count, "step \(step)")
            case 1:
                _ = try await repository.prune(grace: .zero)
            default:
                _ = try await repository.backup(engine, engineVersion: "test")
            }
        }
        _ = try await repository.backup(engine, engineVersion: "test")
        #expect(try await repository.check(readData: true).problems.isEmpty)
        for backup in try await repository.backups() {
            let target = directory.appending("restored-\(backup.id)")
            let report = try await repository.restore(backup.id, to: target)
            #expect(report.fingerprintsVerified == 1 && report.goldenQueriesVerified == 2)
            try FileManager.default.removeItem(atPath: target)
        }
        // Keep only the newest: what only the older backups needed goes.
        let before = try await Self.storedBytes(repository)
        let pruned = try #require(try await repository.forget(RetentionPolicy(keepLast: 1), prune: true, grace: .zero).prune)
        let after = try await Self.storedBytes(repository)
        #expect(pruned.packsDeleted + pruned.packsRepacked > 0 && after < before, "\(before) → \(after) bytes: \(pruned)")
        let again = try await repository.prune(grace: .zero)
        #expect(again.packsDeleted == 0 && again.packsRepacked == 0, "a second prune finds nothing to do")
        let latest = try await repository.backupID("latest")
        _ = try await repository.restore(latest, to: directory.appending("final"))
        #expect(try await repository.check(readData: true).problems.isEmpty)
        await engine.close()
    }

    @Test("the grace period keeps young packs, and a dry run deletes nothing")
    func graceAndDryRun() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 54)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 8, metric: .l2))
        let repository = try await Self.repository(in: directory)
        var ids: [UUID] = []
        try await Self.change(engine, generator: &generator, ids: &ids)
        try await engine.flush()
        _ = try await repository.backup(engine, engineVersion: "test")
        _ = try await repository.forget(RetentionPolicy(keepTags: ["none"]))
        let packs = try await repository.backend.list("data/")
        let young = try await repository.prune()
        #expect(young.packsInGrace == packs.count && young.packsDeleted == 0)
        let dry = try await repository.prune(grace: .zero, dryRun: true)
        #expect(dry.packsDeleted == packs.count && dry.dryRun)
        #expect(try await repository.backend.list("data/") == packs, "a dry run deletes nothing")
        let real = try await repository.prune(grace: .zero)
        let remaining = try await repository.backend.list("data/")
        #expect(real.packsDeleted == packs.count && remaining.isEmpty)
        #expect(try await repository.backend.list("index/").isEmpty)
        await engine.close()
    }

    @Test("a power cut at any step of a prune leaves every kept backup restorable, and the next prune finishes the job")
    func pruneSurvivesPowerCuts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 55)
        let engine = try await Engine.open(at: directory.appending("db"))
        var cut = 0
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            let repository = try await Self.repository(in: directory, fs: fs, root: "/repo")
            // Each round's collection replaces the last one's: the older backups' segments are
            // needed by no newer backup, while the first pack also holds a collection every backup needs.
            try await engine.createCollection(CollectionSchema(name: "k\(cut)", dimensions: 8, metric: .l2))
            try await engine.put((0..<100).map { _ in NewObject(vector: generator.vector(8)) }, collection: "k\(cut)")
            for round in 0..<3 {
                let name = "r\(cut)_\(round)"
                try await engine.createCollection(CollectionSchema(name: name, dimensions: 8, metric: .l2))
                try await engine.put((0..<400).map { _ in NewObject(vector: generator.vector(8)) }, collection: name)
                try await engine.flush()
                if round > 0 { try await engine.dropCollection("r\(cut)_\(round - 1)") }
                _ = try await repository.backup(engine, engineVersion: "test")
            }
            try await engine.dropCollection("r\(cut)_2")
            try await engine.dropCollection("k\(cut)")
            _ = try await repository.forget(RetentionPolicy(keepLast: 1))
            let kept = try await repository.backups()
            fs.cutPower(afterOperations: cut)
            let pruned = try? await repository.prune(grace: .zero)
            let interrupted = pruned == nil
            if let pruned { #expect(pruned.packsRepacked > 0 && pruned.bytesFreed > 0, "\(pruned)") }
            fs.crash()
            let reopened = try await Repository.open(LocalBackend(root: "/repo", fileSystem: fs), credential: .password("pw"))
            #expect(try await reopened.backups().map(\.id) == kept.map(\.id), "cut \(cut)")
            _ = try await reopened.restore(kept[0].id, to: directory.appending("restored-\(cut)"))
            _ = try await reopened.prune(grace: .zero)
            #expect(try await reopened.check(readData: true).problems.isEmpty, "cut \(cut)")
            _ = try await reopened.restore(kept[0].id, to: directory.appending("restored-again-\(cut)"))
            if !interrupted { break }
            cut += 1
        }
        #expect(cut >= 5, "a prune makes several durable steps (\(cut))")
        await engine.close()
    }
}

@Suite("Repository locks")
struct RepositoryLockTests {
    @Test("an exclusive lock blocks backups and a shared one blocks prune, naming the holder; both are released")
    func conflicts() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let repository = try await PruneTests.repository(in: directory)
        try await repository.withLock(exclusive: false, operation: "backup") {
            do {
                _ = try await repository.prune(grace: .zero)
                Issue.record("prune ran while a backup held the repository")
            } catch let RepositoryError.locked(_, holder) {
                #expect(holder.operation == "backup" && !holder.exclusive && holder.pid == getpid())
            }
            // Shared locks do not conflict with each other.
            _ = try await repository.check()
        }
        try await repository.withLock(exclusive: true, operation: "prune") {
            await #expect(throws: RepositoryError.self) { _ = try await repository.check() }
        }
        #expect(try await repository.locks().isEmpty, "every lock was released")
        _ = try await repository.prune(grace: .zero)
    }

    @Test("a stale lock (not refreshed for 30 minutes, or its process gone) blocks nothing; unlock removes it; a live one stays")
    func staleLocks() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let repository = try await PruneTests.repository(in: directory)
        func plant(_ name: String, host: String, pid: Int32, refreshedAgo: Int64) async throws {
            let now = Clock.milliseconds()
            let info = RepositoryLockInfo(host: host, pid: pid, exclusive: true, operation: "prune", taken: now - refreshedAgo,
                                          refreshed: now - refreshedAgo, token: name)
            try await repository.backend.put(Repository.locksFolder + name,
                                             SealedObject.seal(try JSONEncoder.sorted.encode(info).bytes, kind: "lock", key: repository.key))
        }
        try await plant("old", host: "elsewhere", pid: 1, refreshedAgo: Repository.staleAfter + 60_000)
        try await plant("crashed", host: ProcessInfo.processInfo.hostName, pid: getpid(), refreshedAgo: 0)
        _ = try await repository.check()
        #expect(try await repository.locks().map(\.info.token) == ["old"], "a lock of this process it does not hold is removed on sight")
        try await plant("live", host: "elsewhere", pid: 1, refreshedAgo: 60_000)
        await #expect(throws: RepositoryError.self) { _ = try await repository.check() }
        #expect(try await repository.unlock().map(\.token) == ["old"])
        #expect(try await repository.locks().map(\.info.token) == ["live"], "a live lock is never broken without --all")
        #expect(try await repository.unlock(all: true).map(\.token) == ["live"])
        _ = try await repository.check()
    }
}
