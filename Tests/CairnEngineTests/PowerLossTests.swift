@testable import CairnEngine
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
    struct Contents: Equatable, CustomStringConvertible {
        var partitions: [String: [UUID: [Float]]] = [:]
        var description: String { partitions.mapValues(\.count).sorted { $0.key < $1.key }.description }
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

        func objects(_ count: Int) -> [NewObject] {
            (0..<count).map { _ in NewObject(vector: generator.vector(4)) }
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

    /// Runs the workload with the power cut after `cut` changes, crashes, reopens and checks.
    static func powerCut(after cut: Int?, seed: UInt64) async throws -> Int {
        let fs = CrashSimulatingFileSystem(seed: seed)
        let workload = Workload(seed: 7)
        if let cut { fs.cutPower(afterOperations: cut) }
        var failure: Error?
        do {
            let engine = try await Engine.open(at: directory, options: options(fs))
            do { try await workload.run(engine) } catch { failure = error }
            await engine.close()
        } catch {
            failure = error
        }
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
}
