import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Builds, or changes, the data directory `scripts/bench-backup.sh` backs up with Cairn and its
/// peers: seeded articles (title, year, lang, vector), flushed and compacted.
struct BackupDataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup-data",
        abstract: "Build a data directory for the backup benchmark, or change a share of its objects.",
        discussion: """
        Without --change: creates collection `articles` in --data with --count objects, flushed \
        and compacted. With --change F: overwrites F/2 of the objects and inserts as many new \
        ones, with a flush between the two halves and a compaction after (what an incremental \
        backup then has to store). Example: cairn-bench backup-data --data /tmp/bench-db --count 1000000
        """
    )

    @Option(help: "The data directory.") var data: String
    @Option(help: "Objects to create.") var count = 1_000_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "HNSW efConstruction (the graph's quality does not matter to a backup; lower builds faster).") var efConstruction = 32
    @Option(help: "Change this share of the objects instead of creating them.") var change: Double?
    @Option(help: "Random seed.") var seed: UInt64 = 7

    func run() async throws {
        let started = ContinuousClock.now
        let db = try await Database.open(at: data)
        if let change {
            let total = try db.count("articles")
            let half = Int(Double(total) * change / 2)
            var generator = SeededGenerator(seed: seed &+ UInt64(total))
            // The objects to overwrite, spread over the data: regenerated from the seeds that
            // made them (in chunks of 100,000, as written), not read back.
            var chosen: [UUID] = []
            let chunks = max(1, total / 100_000)
            for chunk in 0..<chunks where chosen.count < half {
                let ids = SampleData.objects(count: 100_000, dimensions: dimensions, seed: seed &+ UInt64(chunk * 100_000)).map(\.id)
                let wanted = min(half - chosen.count, (half + chunks - 1) / chunks)
                chosen += stride(from: 0, to: ids.count, by: max(1, ids.count / wanted)).prefix(wanted).map { ids[$0] }
            }
            let updates = chosen.prefix(half).map { NewObject(id: $0, properties: ["title": .string("updated")], vector: generator.vector(dimensions)) }
            try await put(Array(updates), into: db)
            try await db.flush()
            try await put(SampleData.objects(count: half, dimensions: dimensions, seed: seed &+ 99), into: db)
            try await db.flush()
            try await db.compact()
            print("changed \(updates.count) and inserted \(half) objects in \(seconds(since: started)) s")
        } else {
            try await db.createCollection(CollectionSchema(name: "articles", dimensions: dimensions, metric: .cosine,
                                                           properties: [PropertyDefinition(name: "title", type: PropertyType(.text)),
                                                                        PropertyDefinition(name: "year", type: PropertyType(.int)),
                                                                        PropertyDefinition(name: "lang", type: PropertyType(.keyword))],
                                                           hnsw: HNSWParameters(efConstruction: efConstruction)))
            for start in stride(from: 0, to: count, by: 100_000) {
                try await put(SampleData.objects(count: min(100_000, count - start), dimensions: dimensions, seed: seed &+ UInt64(start)), into: db)
            }
            try await db.flush()
            try await db.compact()
            print("wrote \(count) objects in \(seconds(since: started)) s")
        }
        await db.close()
    }

    private func put(_ objects: [NewObject], into db: Database) async throws {
        for start in stride(from: 0, to: objects.count, by: 1000) {
            try await db.put(Array(objects[start..<min(objects.count, start + 1000)]), into: "articles")
        }
    }

    private func seconds(since start: ContinuousClock.Instant) -> String {
        String(format: "%.1f", (ContinuousClock.now - start).milliseconds / 1000)
    }
}
