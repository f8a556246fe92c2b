import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// What a request costs through the control socket: the same searches asked in-process and
/// through the socket of the process holding the database (here, this one), one at a time.
struct ControlBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "control",
        abstract: "Measure the round trip of a search through the control socket against the same search in-process.",
        discussion: "Example: swift run -c release cairn-bench control --objects 100000 --searches 20000"
    )

    @Option(help: "Objects in the collection.") var objects = 100_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "Searches of each kind.") var searches = 20_000
    @Option(help: "Where the temporary data directory goes.") var workDirectory = NSTemporaryDirectory()

    func run() async throws {
        let path = workDirectory + "/cairn-bench-control-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = EngineOptions()
        options.logger.logLevel = .warning
        let db = try await Database.open(at: path, options: options)
        try await db.createCollection(SampleData.schema(dimensions: dimensions))
        for start in stride(from: 0, to: objects, by: 10_000) {
            try await db.put(SampleData.objects(count: min(10_000, objects - start), dimensions: dimensions, seed: UInt64(start)), into: "articles")
        }
        try await db.flush()
        var generator = SeededGenerator(seed: 9)
        let queries = (0..<searches).map { _ in generator.vector(dimensions) }

        let local = try Self.measure(queries) { vector in _ = try db.search(vector, in: "articles", limit: 10) }
        let remote = try await onOwnThread {
            let client = try RemoteDatabase(directory: path)
            return try Self.measure(queries) { vector in
                _ = try client.call(.search(collection: "articles", tenant: nil, vector: FloatBlock(vector), limit: 10, filter: nil, ef: nil, withVectors: false),
                                    as: HitBatch.self)
            }
        }
        await db.close()
        print(String(format: "search of %d × %d-d, limit 10, %d searches each: in-process mean %.3f ms (p50 %.3f, p99 %.3f); "
                     + "through the control socket mean %.3f ms (p50 %.3f, p99 %.3f): %.3f ms more per search (goal ≤ 1 ms)",
                     objects, dimensions, searches, local.mean, local.p50, local.p99, remote.mean, remote.p50, remote.p99, remote.mean - local.mean))
    }

    private struct Latencies: Sendable { var mean: Double, p50: Double, p99: Double }

    private static func measure(_ queries: [[Float]], _ search: ([Float]) throws -> Void) throws -> Latencies {
        var latencies: [Double] = []
        latencies.reserveCapacity(queries.count)
        for vector in queries {
            let started = ContinuousClock.now
            try search(vector)
            latencies.append((ContinuousClock.now - started).seconds * 1000)
        }
        let sorted = latencies.sorted()
        return Latencies(mean: latencies.reduce(0, +) / Double(latencies.count), p50: sorted[sorted.count / 2],
                         p99: sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
    }
}
