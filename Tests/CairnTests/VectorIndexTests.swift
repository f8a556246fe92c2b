import Cairn
import CairnTestSupport
import Foundation
import Testing

/// The HNSW graphs of memtables and segments, through the database API.
@Suite("Vector index")
struct VectorIndexTests {
    static let dimensions = 32

    private func objects(_ count: Int, seed: UInt64) -> [NewObject] {
        let vectors = ClusteredData.vectors(count: count, dimensions: Self.dimensions, seed: seed)
        var generator = SeededGenerator(seed: seed &+ 1)
        return (0..<count).map { row in
            NewObject(id: generator.uuid(), properties: ["year": .int(Int64(row % 100))],
                      vector: Array(vectors[row * Self.dimensions..<(row + 1) * Self.dimensions]))
        }
    }

    /// `count` objects spread over 200 loose clusters (data sign sketches pay on), with
    /// `properties(row)`, and 50 queries from the same distribution.
    private func spreadOut(_ count: Int, seed: UInt64, properties: (Int) -> [String: PropertyValue]) -> ([NewObject], [[Float]]) {
        let vectors = ClusteredData.vectors(count: count + 50, dimensions: Self.dimensions, clusters: 200, spread: 1.0, seed: seed)
        func vector(_ row: Int) -> [Float] { Array(vectors[row * Self.dimensions..<(row + 1) * Self.dimensions]) }
        var generator = SeededGenerator(seed: seed &+ 1)
        let objects = (0..<count).map { NewObject(id: generator.uuid(), properties: properties($0), vector: vector($0)) }
        return (objects, (count..<count + 50).map(vector))
    }

    private func schema(_ metric: DistanceMetric = .l2, quantization: VectorQuantization? = nil) -> CollectionSchema {
        CollectionSchema(name: "docs", dimensions: Self.dimensions, metric: metric,
                         properties: [PropertyDefinition(name: "year", type: PropertyType(.int))], quantization: quantization)
    }

    private func exact(_ query: [Float], among objects: [NewObject], k: Int) -> [UUID] {
        func squaredDistance(_ vector: [Float]) -> Float {
            var total: Float = 0
            for (a, b) in zip(vector, query) { total += (a - b) * (a - b) }
            return total
        }
        let scored = objects.map { (id: $0.id, distance: squaredDistance($0.vector)) }
        return scored.sorted { $0.distance < $1.distance }.prefix(k).map(\.id)
    }

    /// How many of an L2 search's `hits` are among the true 10 nearest of `objects`, after
    /// checking that each hit's distance is exact, whatever the walk compared.
    private func checkedHits(_ hits: [SearchHit], query: [Float], among objects: [NewObject]) -> Int {
        for hit in hits {
            let exact = zip(hit.object.vector, query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            #expect(abs(hit.distance - exact) <= 1e-4 * max(1, exact))
        }
        return Set(hits.map(\.object.id)).intersection(exact(query, among: objects, k: 10)).count
    }

    @Test("a persisted graph (and its codes) gives identical results after reopen, and recall@10 stays at least 0.95",
          arguments: [nil, VectorQuantization.int8])
    func persistedGraphRoundTrips(quantization: VectorQuantization?) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let all = objects(10_000, seed: 7)
        let queries = ClusteredData.vectors(count: 50, dimensions: Self.dimensions, seed: 8)
        var before: [[SearchHit]] = []
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(schema(quantization: quantization))
            for start in stride(from: 0, to: all.count, by: 1000) { try await db.put(Array(all[start..<start + 1000]), into: "docs") }
            try await db.flush()
            let memory = db.stats().searchMemory
            #expect(memory.vectorBytes == all.count * Self.dimensions * 4)
            #expect(memory.graphBytes > 0)
            // int8: a header, the ranges and each row's squared length (L2) padded to 64 bytes, then a byte per component.
            let codesStart = (16 + 8 * Self.dimensions + 4 * all.count + 63) / 64 * 64
            #expect(memory.codeBytes == (quantization == nil ? 0 : codesStart + all.count * Self.dimensions))
            var found = 0
            for q in 0..<50 {
                let query = Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions])
                let hits = try db.search(query, in: "docs", limit: 10)
                before.append(hits)
                found += checkedHits(hits, query: query, among: all)
            }
            #expect(Double(found) / 500 >= 0.95)
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        for q in 0..<50 {
            let query = Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions])
            let hits = try db.search(query, in: "docs", limit: 10)
            #expect(hits.map(\.object.id) == before[q].map(\.object.id))
            #expect(hits.map(\.distance) == before[q].map(\.distance))
        }
        await db.close()
    }

    @Test("a segment of spread-out vectors carries sign sketches, used in place: exact distances, recall@10 ≥ 0.95, the same hits after reopen; tight clusters and int8 get none")
    func signSketches() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (all, queries) = spreadOut(5_000, seed: 21) { _ in [:] }
        var generator = SeededGenerator(seed: 24)
        var before: [[SearchHit]] = []
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(schema())
            try await db.put(all, into: "docs")
            try await db.flush()
            // A header, the center (dimensions rounded up to 32) padded to 64 bytes, then a 16-byte record per row.
            #expect(db.stats().searchMemory.sketchBytes == 192 + all.count * 16)
            var found = 0
            for query in queries {
                let hits = try db.search(query, in: "docs", limit: 10)
                before.append(hits)
                found += checkedHits(hits, query: query, among: all)
            }
            #expect(Double(found) / 500 >= 0.95)
            // Few clusters, each tight around a point far from the mean: bounds rule out little.
            let tight = ClusteredData.vectors(count: 5_000, dimensions: Self.dimensions, clusters: 5, seed: 23)
            try await db.createCollection(CollectionSchema(name: "tight", dimensions: Self.dimensions, metric: .l2))
            try await db.put((0..<5_000).map { row in
                NewObject(id: generator.uuid(), properties: [:], vector: Array(tight[row * Self.dimensions..<(row + 1) * Self.dimensions]))
            }, into: "tight")
            try await db.createCollection(CollectionSchema(name: "coded", dimensions: Self.dimensions, metric: .l2, quantization: .int8))
            try await db.put(all, into: "coded")
            try await db.flush()
            #expect(db.stats().searchMemory.sketchBytes == 192 + all.count * 16, "neither tight clusters nor codes add sketches")
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        #expect(db.stats().searchMemory.sketchBytes == 192 + all.count * 16)
        for (query, hits) in zip(queries, before) {
            let again = try db.search(query, in: "docs", limit: 10)
            #expect(again.map(\.object.id) == hits.map(\.object.id) && again.map(\.distance) == hits.map(\.distance))
        }
        await db.close()
    }

    @Test("a selective filter's scan of a sketched segment skips the rows the sketches rule out: only allowed objects, exact distances, recall@10 ≥ 0.95")
    func screenedFilteredScan() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (all, queries) = spreadOut(10_000, seed: 31) { row in ["year": .int(Int64(row % 25))] }
        var options = EngineOptions()
        options.screenedScanBytes = 0 // every scan of a sketched segment screens
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(schema())
        try await db.put(all, into: "docs")
        try await db.flush()
        #expect(db.stats().searchMemory.sketchBytes > 0)
        // 400 rows, 4%: below the share where walks take over, so scanned.
        let allowed = all.filter { $0.properties["year"] == .int(7) }
        let filter = try db.parseFilter("year = 7", for: "docs")
        var found = 0
        for query in queries {
            let hits = try db.search(query, in: "docs", limit: 10, filter: filter)
            #expect(hits.count == 10 && hits.allSatisfy { $0.object.properties["year"] == .int(7) })
            found += checkedHits(hits, query: query, among: allowed)
        }
        #expect(Double(found) / 500 >= 0.95, "recall@10 \(Double(found) / 500)")
        await db.close()
    }

    @Test("search settings change through an alias: efSearch at once, quantization for the segments written afterwards; both survive reopen")
    func tunedSearchSettings() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let all = objects(6_000, seed: 11)
        let queries = ClusteredData.vectors(count: 20, dimensions: Self.dimensions, seed: 12)
        func query(_ q: Int) -> [Float] { Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions]) }
        func recall(_ db: Database, among objects: [NewObject]) throws -> Double {
            var found = 0
            for q in 0..<20 {
                let hits = try db.search(query(q), in: "docs", limit: 10)
                #expect(try hits.map(\.object.id) == db.search(query(q), in: "docs", limit: 10, ef: db.collection(named: "docs").hnsw.efSearch)
                    .map(\.object.id), "a search without ef uses efSearch")
                found += Set(hits.map(\.object.id)).intersection(exact(query(q), among: objects, k: 10)).count
            }
            return Double(found) / 200
        }
        do {
            let db = try await Database.open(at: directory.path)
            try await db.createCollection(schema())
            try await db.setAlias("latest", to: "docs")
            try await db.put(Array(all[..<3000]), into: "docs")
            try await db.flush()
            #expect(db.stats().searchMemory.codeBytes == 0)
            try await db.tuneCollection("latest", efSearch: 77, quantization: .int8)
            let tuned = try db.collection(named: "docs")
            #expect(tuned.hnsw.efSearch == 77 && tuned.quantization == .int8)
            #expect(db.stats().searchMemory.codeBytes == 0, "segments written before keep no codes")
            try await db.put(Array(all[3000...]), into: "docs")
            try await db.flush()
            #expect(db.stats().searchMemory.codeBytes >= 3000 * Self.dimensions, "the next segment carries codes")
            #expect(try recall(db, among: all) >= 0.95)
            await #expect(throws: CairnError.invalidSchema("efConstruction and efSearch must be between 1 and 4096")) {
                try await db.tuneCollection("docs", efSearch: 0, quantization: nil)
            }
            await #expect(throws: CairnError.collectionNotFound("nope")) { try await db.tuneCollection("nope", efSearch: 10, quantization: nil) }
            await db.close()
        }
        do {
            let db = try await Database.open(at: directory.path)
            let reopened = try db.collection(named: "docs")
            #expect(reopened.hnsw.efSearch == 77 && reopened.quantization == .int8, "kept by the checkpoint")
            try await db.tuneCollection("docs", efSearch: 40, quantization: nil)
            #expect(try recall(db, among: all) >= 0.95, "walks compare full vectors again")
            await db.close()
        }
        let db = try await Database.open(at: directory.path)
        let replayed = try db.collection(named: "docs")
        #expect(replayed.hnsw.efSearch == 40 && replayed.quantization == nil, "replayed from the log")
        await db.close()
    }

    @Test("deleted and overwritten objects never appear in graph results")
    func deletedAndOverwritten() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 2
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(schema())
        let all = objects(6_000, seed: 9)
        try await db.put(Array(all[0..<3000]), into: "docs")
        try await db.flush()
        // Delete 100 objects, and move 100 others far away, then search right at their old places.
        let deleted = Array(all[0..<100]), moved = Array(all[100..<200])
        try await db.delete(deleted.map(\.id), from: "docs")
        try await db.put(moved.map { NewObject(id: $0.id, properties: $0.properties, vector: [Float](repeating: 100, count: Self.dimensions)) },
                         into: "docs")
        for round in 0..<3 {
            for object in deleted + moved {
                let hits = try db.search(object.vector, in: "docs", limit: 5)
                #expect(!hits.contains { $0.object.id == object.id && $0.distance < 1_000 }, "round \(round)")
            }
            if round == 0 { try await db.flush() }
            if round == 1 {
                try await db.put(Array(all[3000..<6000]), into: "docs")
                try await db.flush()
            }
        }
        #expect(try db.count("docs") == 5_900)
        await db.close()
    }

    @Test("filtered graph search returns only allowed objects and finds their true neighbours",
          arguments: [("year < 1", 0.01), ("year < 10", 0.1), ("year < 30", 0.3)])
    func filtered(filterText: String, fraction: Double) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(schema())
        let all = objects(20_000, seed: 11)
        for start in stride(from: 0, to: all.count, by: 2000) { try await db.put(Array(all[start..<start + 2000]), into: "docs") }
        try await db.flush()
        let filter = try db.parseFilter(filterText, for: "docs")
        let limit = Int64(fraction * 100)
        let allowed = all.filter { if case let .int(year)? = $0.properties["year"] { return year < limit }; return false }
        let queries = ClusteredData.vectors(count: 30, dimensions: Self.dimensions, seed: 12)
        // The default walk goes on until it has efSearch allowed objects; a given ef stops by
        // ef times the share allowed, so 128 / share reaches as far (1% is scanned exactly).
        for ef in [nil, min(4096, Int(128 / fraction))] {
            var found = 0
            for q in 0..<30 {
                let query = Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions])
                let hits = try db.search(query, in: "docs", limit: 10, filter: filter, ef: ef)
                #expect(hits.allSatisfy { if case let .int(year)? = $0.object.properties["year"] { return year < limit }; return false })
                found += Set(hits.map(\.object.id)).intersection(exact(query, among: allowed, k: 10)).count
            }
            #expect(Double(found) / 300 >= 0.95, "recall@10 with \(filterText), ef \(ef.map(String.init) ?? "default")")
        }
        await db.close()
    }

    @Test("a memtable's live graph answers before a flush, hides replaced objects, and becomes the segment's graph")
    func memtableGraph() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // One linking thread links the nodes in arrival order, so the graph (and its recall) is
        // the same in every run; with several, recall varied around the bound (0.948 once).
        var options = EngineOptions()
        options.graphBuildThreads = 1
        let db = try await Database.open(at: directory.path, options: options)
        try await db.createCollection(schema())
        let all = objects(10_000, seed: 21)
        for start in stride(from: 0, to: all.count, by: 1000) { try await db.put(Array(all[start..<start + 1000]), into: "docs") }
        try await db.finishIndexing()
        #expect(db.stats().indexedVectors == 10_000)
        #expect(db.stats().unindexedVectors == 0)

        let queries = ClusteredData.vectors(count: 50, dimensions: Self.dimensions, seed: 22)
        func query(_ q: Int) -> [Float] { Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions]) }
        var found = 0
        for q in 0..<50 {
            let hits = try db.search(query(q), in: "docs", limit: 10)
            found += Set(hits.map(\.object.id)).intersection(exact(query(q), among: all, k: 10)).count
        }
        #expect(Double(found) / 500 >= 0.95, "recall@10 through the memtable graph")

        // Filtered: only allowed objects, close to the exact filtered answer.
        let filter = try db.parseFilter("year < 10", for: "docs")
        let allowed = all.filter { if case let .int(year)? = $0.properties["year"] { return year < 10 }; return false }
        var foundFiltered = 0
        for q in 0..<50 {
            let hits = try db.search(query(q), in: "docs", limit: 10, filter: filter, ef: 128)
            #expect(hits.allSatisfy { if case let .int(year)? = $0.object.properties["year"] { return year < 10 }; return false })
            foundFiltered += Set(hits.map(\.object.id)).intersection(exact(query(q), among: allowed, k: 10)).count
        }
        #expect(Double(foundFiltered) / 500 >= 0.95, "filtered recall@10 through the memtable graph")

        // Deleted and moved objects vanish from graph results at once, even while still linked.
        let deleted = Array(all[0..<50]), moved = Array(all[50..<100])
        try await db.delete(deleted.map(\.id), from: "docs")
        try await db.put(moved.map { NewObject(id: $0.id, properties: $0.properties, vector: [Float](repeating: 100, count: Self.dimensions)) },
                         into: "docs")
        for object in deleted + moved {
            let hits = try db.search(object.vector, in: "docs", limit: 5)
            #expect(!hits.contains { $0.object.id == object.id && $0.distance < 1_000 })
        }

        // A flush of an append-only memtable keeps its graph: results are identical after it.
        let second = TemporaryDirectory()
        defer { second.remove() }
        let fresh = try await Database.open(at: second.path)
        try await fresh.createCollection(schema())
        for start in stride(from: 0, to: all.count, by: 1000) { try await fresh.put(Array(all[start..<start + 1000]), into: "docs") }
        try await fresh.finishIndexing()
        let before = try (0..<50).map { try fresh.search(query($0), in: "docs", limit: 10) }
        try await fresh.flush()
        #expect(fresh.stats().indexedVectors == 0)
        for q in 0..<50 { #expect(try fresh.search(query(q), in: "docs", limit: 10) == before[q]) }
        await fresh.close()
        await db.close()
    }

    @Test("searches run concurrently with a writer and a flush, and every answer is well formed")
    func searchesDuringWrites() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let db = try await Database.open(at: directory.path)
        try await db.createCollection(schema())
        let all = objects(12_000, seed: 31)
        let known = Set(all.map(\.id))
        try await db.put(Array(all[0..<4000]), into: "docs")
        try await db.flush()
        let queries = ClusteredData.vectors(count: 40, dimensions: Self.dimensions, seed: 32)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for start in stride(from: 4000, to: all.count, by: 500) {
                    try await db.put(Array(all[start..<start + 500]), into: "docs")
                    if start == 8000 { try await db.flush() }
                }
            }
            for worker in 0..<3 {
                group.addTask {
                    for round in 0..<20 {
                        let q = (worker * 20 + round) % 40
                        let hits = try db.search(Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions]), in: "docs", limit: 10)
                        #expect(hits.count == 10)
                        #expect(Set(hits.map(\.object.id)).count == hits.count, "no object twice")
                        #expect(hits.allSatisfy { known.contains($0.object.id) })
                        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance <= $1.distance })
                    }
                }
            }
            try await group.waitForAll()
        }
        try await db.finishIndexing()
        var found = 0
        for q in 0..<40 {
            let query = Array(queries[q * Self.dimensions..<(q + 1) * Self.dimensions])
            found += Set(try db.search(query, in: "docs", limit: 10).map(\.object.id)).intersection(exact(query, among: all, k: 10)).count
        }
        #expect(Double(found) / 400 >= 0.95)
        await db.close()
    }
}
