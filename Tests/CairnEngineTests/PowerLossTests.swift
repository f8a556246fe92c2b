@testable import CairnEngine
import CairnVector
import CairnTestSupport
import Foundation
import Testing

/// Durability below the process: a workload runs on `CrashSimulatingFileSystem`, the power is
/// cut after file operation k, everything not made durable is thrown away, and the database
/// must open with every acknowledged write and no half of an unacknowledged one.
@Suite("Power loss")
struct PowerLossTests {
    static let directory = "/db"

    /// What the database should hold: per partition (`collection/tenant`), id → vector; an
    /// inactive tenant is `collection/tenant (inactive)` with no objects (they cannot be read).
    /// `searchSettings`: per collection whose settings are not the defaults, its efSearch and
    /// quantization.
    struct Contents: Equatable, CustomStringConvertible {
        var partitions: [String: [UUID: [Float]]] = [:]
        var searchSettings: [String: String] = [:]
        var description: String { partitions.mapValues(\.count).sorted { $0.key < $1.key }.description + " \(searchSettings)" }

        static func settings(efSearch: Int, quantization: VectorQuantization?) -> String {
            "efSearch \(efSearch), quantization \(quantization?.rawValue ?? "none")"
        }
    }

    /// A sequential workload that keeps the acknowledged contents and, while an operation is in
    /// flight, the contents it would leave.
    final class Workload: @unchecked Sendable {
        var acknowledged = Contents()
        var attempted: Contents?
        var generator: SeededGenerator

        init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

        func step(_ change: (inout Contents) -> Void = { _ in }, _ operation: () async throws -> Void) async throws {
            var next = acknowledged
            change(&next)
            attempted = next
            try await operation()
            acknowledged = next
            attempted = nil
        }

        func objects(_ count: Int, dimensions: Int = 4) -> [NewObject] {
            (0..<count).map { _ in NewObject(vector: generator.vector(dimensions)) }
        }

        /// Runs `body` on the database, closing it also when `body` fails.
        func withEngine(_ options: EngineOptions, _ body: (Engine) async throws -> Void) async throws {
            let engine = try await Engine.open(at: PowerLossTests.directory, options: options)
            do { try await body(engine) } catch {
                await engine.close()
                throw error
            }
            await engine.close()
        }

        /// The snapshot contents `rollbackAndClone` rolled back to and cloned.
        var snapshotContents = Contents()

        /// A rollback to a snapshot, writes after it, and a clone of the snapshot.
        func rollbackAndClone(_ options: EngineOptions) async throws {
            let docs = "docs/_default"
            var snapshot: SnapshotInfo?
            try await withEngine(options) { engine in
                try await step({ $0.partitions[docs] = [:] }) {
                    try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 4, metric: .l2))
                }
                let first = objects(10)
                try await step({ for object in first { $0.partitions[docs]![object.id] = object.vector } }) {
                    try await engine.put(first, collection: "docs")
                }
                try await step { snapshot = try await engine.createSnapshot(label: "s") }
                snapshotContents = acknowledged
                let second = objects(10)
                try await step({ for object in second { $0.partitions[docs]![object.id] = object.vector } }) {
                    try await engine.put(second, collection: "docs")
                }
                try await step { try await engine.flush() }
            }
            guard let snapshot else { return }
            let restored = snapshotContents
            try await step({ $0 = restored }) { _ = try await Engine.rollback(directory: PowerLossTests.directory, to: snapshot.id, options: options) }
            try await withEngine(options) { engine in
                let third = objects(5)
                try await step({ for object in third { $0.partitions[docs]![object.id] = object.vector } }) {
                    try await engine.put(third, collection: "docs")
                }
            }
            try await step { _ = try await Engine.cloneSnapshot(snapshot.id, of: PowerLossTests.directory, to: "/clone", options: options) }
        }

        /// `steps` operations drawn from the generator: puts of new and existing ids, deletes,
        /// flushes, compactions, snapshots taken and deleted, tenants added, deactivated,
        /// reactivated and removed, a collection dropped and created again.
        func randomRun(_ engine: Engine, steps: Int) async throws {
            let docs = "docs/_default"
            try await step({ $0.partitions[docs] = [:] }) {
                try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 4, metric: .cosine))
            }
            try await step { try await engine.createCollection(CollectionSchema(name: "mt", dimensions: 4, metric: .l2, multiTenant: true)) }
            var snapshots: [String] = []
            var tenants: [String: Bool] = [:] // name → active
            var saved: [String: [UUID: [Float]]] = [:]
            var nextTenant = 0
            for _ in 0..<steps {
                let active = tenants.filter(\.value).keys.sorted()
                switch generator.next() % 12 {
                case 0, 1, 2:
                    let existing = acknowledged.partitions[docs].map { Array($0.keys).sorted { $0.uuidString < $1.uuidString } } ?? []
                    var batch = objects(1 + Int(generator.next() % 30))
                    if !existing.isEmpty && generator.next() % 2 == 0 {
                        batch[0] = NewObject(id: existing[Int(generator.next() % UInt64(existing.count))], vector: generator.vector(4))
                    }
                    guard acknowledged.partitions[docs] != nil else { continue }
                    try await step({ for object in batch { $0.partitions[docs]![object.id] = object.vector } }) {
                        try await engine.put(batch, collection: "docs")
                    }
                case 3:
                    guard let ids = acknowledged.partitions[docs]?.keys.sorted(by: { $0.uuidString < $1.uuidString }), !ids.isEmpty else { continue }
                    let doomed = Array(ids.prefix(1 + Int(generator.next() % 5)))
                    try await step({ for id in doomed { $0.partitions[docs]![id] = nil } }) { try await engine.delete(doomed, collection: "docs") }
                case 4: try await step { try await engine.flush() }
                case 5: try await step { try await engine.compact() }
                case 6: try await step { snapshots.append(try await engine.createSnapshot().id) }
                case 7:
                    guard !snapshots.isEmpty else { continue }
                    let id = snapshots.remove(at: Int(generator.next() % UInt64(snapshots.count)))
                    try await step { try engine.deleteSnapshot(id) }
                case 8:
                    let name = "t\(nextTenant)"
                    nextTenant += 1
                    let batch = objects(1 + Int(generator.next() % 10))
                    try await step({ $0.partitions["mt/\(name)"] = [:] }) { _ = try await engine.addTenant(name, to: "mt") }
                    tenants[name] = true
                    try await step({ for object in batch { $0.partitions["mt/\(name)"]![object.id] = object.vector } }) {
                        try await engine.put(batch, collection: "mt", tenant: name)
                    }
                case 9:
                    guard let name = active.first else { continue }
                    saved[name] = acknowledged.partitions["mt/\(name)"] ?? [:]
                    try await step({ $0.partitions["mt/\(name)"] = nil; $0.partitions["mt/\(name) (inactive)"] = [:] }) {
                        _ = try await engine.setTenantState(name, of: "mt", to: .inactive)
                    }
                    tenants[name] = false
                case 10:
                    guard let name = tenants.filter({ !$0.value }).keys.sorted().first else { continue }
                    let contents = saved[name] ?? [:]
                    try await step({ $0.partitions["mt/\(name) (inactive)"] = nil; $0.partitions["mt/\(name)"] = contents }) {
                        _ = try await engine.setTenantState(name, of: "mt", to: .active)
                    }
                    tenants[name] = true
                default:
                    guard let name = active.last else { continue }
                    try await step({ $0.partitions["mt/\(name)"] = nil }) { _ = try await engine.removeTenant(name, from: "mt") }
                    tenants[name] = nil
                }
            }
        }

        /// Every file-affecting operation the engine has, on two collections and a tenant.
        func run(_ engine: Engine) async throws {
            let docs = "docs/_default"
            try await step({ $0.partitions[docs] = [:] }) {
                try await engine.createCollection(CollectionSchema(name: "docs", dimensions: 4, metric: .l2))
            }
            for batch in [objects(20), objects(1), objects(1)] {
                try await step({ for object in batch { $0.partitions[docs]![object.id] = object.vector } }) {
                    try await engine.put(batch, collection: "docs")
                }
            }
            try await step { try await engine.flush() }
            let ids = Array(acknowledged.partitions[docs]!.keys.sorted { $0.uuidString < $1.uuidString }.prefix(6))
            try await step({ for id in ids.prefix(3) { $0.partitions[docs]![id] = nil } }) {
                try await engine.delete(Array(ids.prefix(3)), collection: "docs")
            }
            let overwrites = ids.suffix(3).map { NewObject(id: $0, vector: generator.vector(4)) }
            try await step({ for object in overwrites { $0.partitions[docs]![object.id] = object.vector } }) {
                try await engine.put(overwrites, collection: "docs")
            }
            var snapshot: SnapshotInfo?
            try await step { snapshot = try await engine.createSnapshot(label: "s") }
            let more = objects(10)
            try await step({ for object in more { $0.partitions[docs]![object.id] = object.vector } }) {
                try await engine.put(more, collection: "docs")
            }
            try await step { try await engine.flush() }
            try await step { try await engine.compact() }
            try await step({ $0.partitions["mt/a"] = [:] }) {
                try await engine.createCollection(CollectionSchema(name: "mt", dimensions: 4, metric: .cosine, multiTenant: true))
                try await engine.addTenant("a", to: "mt")
            }
            let tenantObjects = objects(5)
            try await step({ for object in tenantObjects { $0.partitions["mt/a"]![object.id] = object.vector } }) {
                try await engine.put(tenantObjects, collection: "mt", tenant: "a")
            }
            try await step { try await engine.flush() }
            let tenant = acknowledged.partitions["mt/a"] ?? [:]
            try await step({ $0.partitions["mt/a"] = nil; $0.partitions["mt/a (inactive)"] = [:] }) {
                _ = try await engine.setTenantState("a", of: "mt", to: .inactive)
            }
            try await step({ $0.partitions["mt/a (inactive)"] = nil; $0.partitions["mt/a"] = tenant }) {
                _ = try await engine.setTenantState("a", of: "mt", to: .active)
            }
            try await step { _ = try await engine.beginStorageSnapshot(label: "lvm") }
            let during = objects(3)
            try await step({ for object in during { $0.partitions[docs]![object.id] = object.vector } }) {
                try await engine.put(during, collection: "docs")
            }
            try await step { _ = try await engine.endStorageSnapshot() }
            if let snapshot { try await step { try engine.deleteSnapshot(snapshot.id) } }
            try await step({ $0.partitions["mt/a"] = nil }) { _ = try await engine.dropCollection("mt") }
            let last = objects(2)
            try await step({ for object in last { $0.partitions[docs]![object.id] = object.vector } }) {
                try await engine.put(last, collection: "docs")
            }
        }
    }

    static func options(_ fs: CrashSimulatingFileSystem) -> EngineOptions {
        var options = EngineOptions()
        options.fileSystem = fs
        options.compactionSegmentCount = 2
        options.logger.logLevel = .critical
        return options
    }

    /// Everything the database holds now (active partitions).
    static func contents(_ engine: Engine) throws -> Contents {
        var contents = Contents()
        let catalog = engine.catalog
        for schema in catalog.collections.values {
            if schema.hnsw.efSearch != HNSWParameters().efSearch || schema.quantization != nil {
                contents.searchSettings[schema.name] = Contents.settings(efSearch: schema.hnsw.efSearch, quantization: schema.quantization)
            }
            for tenant in (catalog.tenants[schema.name] ?? [:]).values where tenant.state == .inactive {
                contents.partitions["\(schema.name)/\(tenant.name) (inactive)"] = [:]
            }
            let tenants = schema.multiTenant ? (catalog.tenants[schema.name] ?? [:]).values.filter { $0.state == .active }.map(\.name) : [nil]
            for tenant in tenants {
                var objects: [UUID: [Float]] = [:]
                var cursor: UUID?
                while true {
                    let page = try engine.scroll(collection: schema.name, tenant: tenant, after: cursor, limit: 500)
                    guard let lastObject = page.last else { break }
                    for object in page { objects[object.id] = object.vector }
                    cursor = lastObject.id
                }
                contents.partitions["\(schema.name)/\(tenant ?? "_default")"] = objects
            }
        }
        return contents
    }

    /// Runs `work` with the power cut after `cut` changes, crashes, reopens and checks.
    static func powerCut(after cut: Int?, seed: UInt64,
                         work: (Workload, EngineOptions) async throws -> Void = { workload, options in
                             try await workload.withEngine(options) { try await workload.run($0) }
                         }) async throws -> Int {
        let fs = CrashSimulatingFileSystem(seed: seed)
        let workload = Workload(seed: 7)
        if let cut { fs.cutPower(afterOperations: cut) }
        var failure: Error?
        do { try await work(workload, options(fs)) } catch { failure = error }
        let changes = fs.changesMade
        if cut == nil, let failure { Issue.record("the workload failed without a power cut: \(failure)") }
        fs.crash()
        let reopened: Engine
        do { reopened = try await Engine.open(at: directory, options: options(fs)) } catch {
            Issue.record("cut after \(cut ?? -1) of \(changes) changes (seed \(seed)): the database does not open: \(error)")
            return changes
        }
        let found = try contents(reopened)
        let acceptable = [workload.acknowledged] + (workload.attempted.map { [$0] } ?? [])
        #expect(acceptable.contains(found),
                "cut after \(cut ?? -1) changes (seed \(seed)): found \(found), acknowledged \(workload.acknowledged), in flight \(workload.attempted?.description ?? "-")")
        for snapshot in reopened.listSnapshots() {
            let check = try await reopened.verifySnapshot(snapshot.id)
            #expect(check.isConsistent, "cut after \(cut ?? -1) changes (seed \(seed)): snapshot \(snapshot.id) is listed but damaged: \(check.problems)")
        }
        await reopened.close()
        let report = await Engine.verify(at: directory, options: options(fs))
        #expect(report.isConsistent, "cut after \(cut ?? -1) changes (seed \(seed)): \(report.problems)")
        // A clone is all there or not there: when it has a CURRENT, it opens with the snapshot.
        if fs.exists("/clone/CURRENT") {
            let clone = try await Engine.open(at: "/clone", options: options(fs))
            #expect(try contents(clone) == workload.snapshotContents, "cut after \(cut ?? -1) changes (seed \(seed)): the clone differs")
            await clone.close()
        }
        return changes
    }

    @Test("a power cut after any file operation of the workload loses nothing acknowledged")
    func everyCut() async throws {
        let total = try await Self.powerCut(after: nil, seed: 1)
        #expect(total > 50)
        // Each cut with two seeds: different subsets of the unsynced writes survive.
        for cut in 0..<total {
            for seed in [UInt64(cut) &* 31 &+ 5, UInt64(cut) &* 7919 &+ 11] { _ = try await Self.powerCut(after: cut, seed: seed) }
        }
    }

    @Test("a power cut at any file operation while segments with a graph and int8 codes or sign sketches are flushed and compacted, and search settings change, loses nothing")
    func quantizedSegments() async throws {
        let key = "q/_default"
        let work: (Workload, EngineOptions) async throws -> Void = { workload, options in
            try await workload.withEngine(options) { engine in
                try await workload.step({
                    $0.partitions[key] = [:]
                    $0.searchSettings["q"] = Contents.settings(efSearch: HNSWParameters().efSearch, quantization: .int8)
                }) {
                    try await engine.createCollection(CollectionSchema(name: "q", dimensions: 32, metric: .l2, quantization: .int8))
                }
                // 2,100 objects: the flush writes a graph and codes. Quantization is turned off
                // for 100 more: the flush (and the compaction after it) writes a graph and sketches
                // over the merged rows. Turned on again for 100 more, a flush and an explicit
                // compaction write graph and codes.
                func put(_ count: Int) async throws {
                    let batch = workload.objects(count, dimensions: 32)
                    try await workload.step({ contents in for object in batch { contents.partitions[key, default: [:]][object.id] = object.vector } }) {
                        try await engine.put(batch, collection: "q")
                    }
                }
                func tune(efSearch: Int, quantization: VectorQuantization?) async throws {
                    try await workload.step({ $0.searchSettings["q"] = Contents.settings(efSearch: efSearch, quantization: quantization) }) {
                        try await engine.tuneCollection("q", efSearch: efSearch, quantization: quantization)
                    }
                }
                try await put(2_100)
                try await workload.step { try await engine.flush() }
                try await tune(efSearch: 50, quantization: nil)
                try await put(100)
                try await workload.step { try await engine.flush() }
                #expect(engine.stats().searchMemory.sketchBytes > 0 && engine.stats().searchMemory.codeBytes == 0,
                        "the merged segment carries sketches")
                try await tune(efSearch: 60, quantization: .int8)
                try await put(100)
                try await workload.step { try await engine.flush() }
                try await workload.step { try await engine.compact() }
                #expect(engine.stats().searchMemory.codeBytes > 0, "the compacted segment carries codes")
            }
        }
        let total = try await Self.powerCut(after: nil, seed: 3, work: work)
        #expect(total > 20)
        for cut in 0..<total { _ = try await Self.powerCut(after: cut, seed: UInt64(cut) &* 31 &+ 7, work: work) }
    }

    @Test("random workloads cut at seeded points lose nothing acknowledged", arguments: [11, 12, 13, 14])
    func randomWorkloads(seed: UInt64) async throws {
        let work: (Workload, EngineOptions) async throws -> Void = { workload, options in
            workload.generator = SeededGenerator(seed: seed)
            try await workload.withEngine(options) { try await workload.randomRun($0, steps: 60) }
        }
        let total = try await Self.powerCut(after: nil, seed: seed, work: work)
        #expect(total > 150, "\(total) file operations")
        var picker = SeededGenerator(seed: seed &* 977)
        for _ in 0..<40 {
            let cut = Int(picker.next() % UInt64(total))
            _ = try await Self.powerCut(after: cut, seed: picker.next(), work: work)
        }
    }

    @Test("a power cut during a rollback, the writes after it, or a clone loses nothing acknowledged")
    func cutsAroundRollbackAndClone() async throws {
        let work: (Workload, EngineOptions) async throws -> Void = { try await $0.rollbackAndClone($1) }
        let total = try await Self.powerCut(after: nil, seed: 2, work: work)
        #expect(total > 30)
        for cut in 0..<total {
            for seed in [UInt64(cut) &* 13 &+ 3, UInt64(cut) &* 104_729 &+ 17] { _ = try await Self.powerCut(after: cut, seed: seed, work: work) }
        }
    }
}

/// Errors a disk reports (EIO, ENOSPC) instead of losing power: each one reaches the caller as a
/// `CairnError` naming the file and the operation, with its errno; reads keep working; once the
/// fault is gone and the database reopens, nothing acknowledged is missing.
@Suite("Injected file-system errors")
struct InjectedFaultTests {
    static let faults: [(String, CrashSimulatingFileSystem.Fault, Int32)] = [
        ("write 1", .fail(.write, nth: 1, errno: EIO), EIO), ("write 7", .fail(.write, nth: 7, errno: EIO), EIO),
        ("write 30", .fail(.write, nth: 30, errno: EIO), EIO),
        ("sync 1", .fail(.sync, nth: 1, errno: EIO), EIO), ("sync 4", .fail(.sync, nth: 4, errno: EIO), EIO),
        ("sync 15", .fail(.sync, nth: 15, errno: EIO), EIO),
        ("rename 1", .fail(.rename, nth: 1, errno: EIO), EIO), ("rename 3", .fail(.rename, nth: 3, errno: EIO), EIO),
        ("create 2", .fail(.create, nth: 2, errno: EIO), EIO), ("link 2", .fail(.link, nth: 2, errno: EIO), EIO),
        ("no space at once", .noSpace(afterBytes: 0), ENOSPC), ("no space after 2 KB", .noSpace(afterBytes: 2000), ENOSPC),
        ("no space inside the WAL's room", .noSpace(afterBytes: 3 << 20), ENOSPC),
    ]

    @Test("an injected error surfaces with file, operation and errno, and loses nothing", arguments: 0..<faults.count)
    func injected(index: Int) async throws {
        let (name, fault, code) = Self.faults[index]
        let fs = CrashSimulatingFileSystem(seed: UInt64(index))
        let options = PowerLossTests.options(fs)
        let workload = PowerLossTests.Workload(seed: 7)
        // The collection exists before the fault, so that reads have something to read.
        try await workload.withEngine(options) { engine in
            try await workload.step({ $0.partitions["warm/_default"] = [:] }) {
                try await engine.createCollection(CollectionSchema(name: "warm", dimensions: 4, metric: .l2))
            }
        }
        var failure: Error?
        do {
            try await workload.withEngine(options) { engine in
                fs.inject(fault)
                do { try await workload.run(engine) } catch {
                    failure = error
                    // Reads keep working after a failed write.
                    #expect(throws: Never.self, "\(name): reads fail after the error") { _ = try PowerLossTests.contents(engine) }
                    throw error
                }
            }
        } catch {
            failure = failure ?? error
        }
        #expect(failure != nil, "\(name): the fault never reached the workload")
        if let failure {
            guard case let CairnError.io(path, operation, _, errno)? = failure as? CairnError else {
                Issue.record("\(name): the error is not an I/O error naming a file: \(failure)")
                return
            }
            #expect(errno == code && !path.isEmpty && !operation.isEmpty, "\(name): \(failure)")
        }
        fs.clearFaults()
        let reopened = try await Engine.open(at: PowerLossTests.directory, options: options)
        let found = try PowerLossTests.contents(reopened)
        let acceptable = [workload.acknowledged] + (workload.attempted.map { [$0] } ?? [])
        #expect(acceptable.contains(found), "\(name): found \(found), acknowledged \(workload.acknowledged)")
        await reopened.close()
        #expect(await Engine.verify(at: PowerLossTests.directory, options: options).isConsistent, "\(name)")
    }

    @Test("a directory that cannot be listed while opening refuses to open, naming it; nothing is lost", arguments: [1, 2, 3, 4])
    func listingFailsAtOpen(nth: Int) async throws {
        let fs = CrashSimulatingFileSystem(seed: 3)
        let options = PowerLossTests.options(fs)
        let workload = PowerLossTests.Workload(seed: 7)
        try await workload.withEngine(options) { try await workload.run($0) }
        fs.inject(.fail(.list, nth: nth, errno: EIO))
        do {
            let engine = try await Engine.open(at: PowerLossTests.directory, options: options)
            // A listing that only guides clean-up may fail: then nothing is deleted.
            #expect(try PowerLossTests.contents(engine) == workload.acknowledged)
            await engine.close()
        } catch let CairnError.io(path, operation, _, errno) {
            #expect(errno == EIO && path.hasPrefix(PowerLossTests.directory) && operation == "list")
        }
        fs.clearFaults()
        let engine = try await Engine.open(at: PowerLossTests.directory, options: options)
        #expect(try PowerLossTests.contents(engine) == workload.acknowledged)
        await engine.close()
    }
}
