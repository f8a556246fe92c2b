import ArgumentParser
import Cairn
import CairnBackup
import CairnTestSupport
import Foundation

/// Restoring one tenant into a live database that holds many others, against restoring the
/// same tenant alone into an empty directory; and the search latency of the other tenants
/// before and while it happens.
struct LiveRestoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "live-restore",
        abstract: "Measure a tenant restore into a live database (time, and p99 search latency of the other tenants) against a restore into an empty target.",
        discussion: "Example: swift run -c release cairn-bench live-restore --tenants 1000 --objects-per-tenant 1000 --restored 10000"
    )

    @Option(help: "Tenants of the live database besides the restored one.") var tenants = 1000
    @Option(help: "Objects in each of those tenants.") var objectsPerTenant = 1000
    @Option(help: "Objects in the restored tenant.") var restored = 10_000
    @Option(help: "Vector dimensions.") var dimensions = 64
    @Option(help: "Restores of each kind (the median is reported).") var repeats = 5
    @Option(help: "Where the temporary directories go.") var workDirectory = NSTemporaryDirectory()

    func run() async throws {
        let root = workDirectory + "/cairn-bench-live-restore-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        var options = EngineOptions()
        options.logger.logLevel = .warning
        options.safetySnapshots.enabled = false
        let db = try await Database.open(at: root + "/live", options: options)
        var schema = SampleData.schema(name: "docs", dimensions: dimensions, multiTenant: true)
        schema.hnsw = HNSWParameters(M: 8, efConstruction: 32) // the graph is not what is measured
        try await db.createCollection(schema)
        let loadStarted = ContinuousClock.now
        try await db.addTenant("subject", to: "docs")
        for start in stride(from: 0, to: restored, by: 5_000) {
            try await db.put(SampleData.objects(count: min(5_000, restored - start), dimensions: dimensions, seed: UInt64(start)),
                             into: "docs", tenant: "subject")
        }
        for tenant in 0..<tenants {
            try await db.addTenant("t\(tenant)", to: "docs")
            try await db.put(SampleData.objects(count: objectsPerTenant, dimensions: dimensions, seed: UInt64(1_000_000 + tenant)),
                             into: "docs", tenant: "t\(tenant)")
        }
        try await db.flush()
        print(String(format: "live database: %d tenants × %d objects + a tenant of %d, %d-d, loaded and flushed in %.0f s",
                     tenants, objectsPerTenant, restored, dimensions, (ContinuousClock.now - loadStarted).seconds))
        let repository = try await Repository.initialize(Repository.localBackend(at: root + "/repo"), credential: .password("bench"))
        let backup = try await db.backup(to: repository, scope: PartitionScope(collections: ["docs"], tenants: ["subject"]))

        // Each kind of restore runs while one thread searches other tenants back to back, so
        // both compete with the same load; the searches before any restore are the baseline.
        let before = try await searchLatencies(db, while: { try await Task.sleep(for: .seconds(3)) })
        var alone: [Double] = []
        let duringAlone = try await searchLatencies(db, while: {
            for index in 0..<repeats {
                let started = ContinuousClock.now
                _ = try await repository.restore(backup.id, to: root + "/alone-\(index)",
                                                 scope: PartitionScope(collections: ["docs"], tenants: ["subject"]))
                alone.append((ContinuousClock.now - started).seconds)
                try? FileManager.default.removeItem(atPath: root + "/alone-\(index)")
            }
        })
        var live: [Double] = []
        let during = try await searchLatencies(db, while: {
            for index in 0..<repeats {
                let started = ContinuousClock.now
                _ = try await db.restore("docs", tenant: "subject", from: repository, backup: backup.id, as: "restored\(index)")
                live.append((ContinuousClock.now - started).seconds)
            }
        })
        guard try db.count("docs", tenant: "restored0") == restored else { throw ValidationError("the restored tenant is incomplete") }
        await db.close()

        let (aloneMedian, liveMedian) = (median(alone), median(live))
        print(String(format: "restore of the %d-object tenant into an empty target: median %.3f s (%@)", restored, aloneMedian, list(alone)))
        print(String(format: "restore of it into the live database:              median %.3f s (%@) = %.2f× (goal ≤ 1.5×)",
                     liveMedian, list(live), liveMedian / aloneMedian))
        print(String(format: "search of other tenants (one thread, back to back), p50 / p99: %.3f / %.3f ms before (%d searches); "
                     + "%.3f / %.3f ms during the restores into an empty target (%d); %.3f / %.3f ms during the live restores (%d) "
                     + "= %.2f× the p99 before (goal ≤ 2×)",
                     percentile(before, 0.5), percentile(before, 0.99), before.count,
                     percentile(duringAlone, 0.5), percentile(duringAlone, 0.99), duringAlone.count,
                     percentile(during, 0.5), percentile(during, 0.99), during.count, percentile(during, 0.99) / percentile(before, 0.99)))
    }

    /// Latencies (ms) of searches in random other tenants, one after another, while `work` runs.
    private func searchLatencies(_ db: Database, while work: () async throws -> Void) async throws -> [Double] {
        let stop = StopFlag()
        let (tenants, dimensions) = (tenants, dimensions)
        let searcher = Task { try await onOwnThread {
            var generator = SeededGenerator(seed: 5)
            var latencies: [Double] = []
            while !stop.isSet {
                let vector = generator.vector(dimensions)
                let tenant = "t\(Int.random(in: 0..<tenants, using: &generator))"
                let started = ContinuousClock.now
                _ = try db.search(vector, in: "docs", tenant: tenant, limit: 10)
                latencies.append((ContinuousClock.now - started).seconds * 1000)
            }
            return latencies
        } }
        try await work()
        stop.set()
        return try await searcher.value
    }

    private func median(_ values: [Double]) -> Double { percentile(values, 0.5) }

    private func percentile(_ values: [Double], _ fraction: Double) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    private func list(_ values: [Double]) -> String { values.map { String(format: "%.3f", $0) }.joined(separator: ", ") }
}
