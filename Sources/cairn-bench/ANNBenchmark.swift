import ArgumentParser
import Cairn
import Foundation
import Synchronization

/// Builds an HNSW graph over a texmex data set and prints recall@10 and single-thread QPS per
/// ef, in the same shape as `shared/bench/ann_peers.py`, so the two outputs compare line by line.
struct ANNBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ann",
        abstract: "Recall@10 and QPS of Cairn's HNSW on a texmex data set (ann_peers.py --save-dir writes one).",
        discussion: """
        Example:
          python3 shared/bench/ann_peers.py --save-dir /tmp/ann --libs hnswlib --batch
          swift run -c release cairn-bench ann --base /tmp/ann/base.fvecs --query /tmp/ann/query.fvecs \\
              --groundtruth /tmp/ann/groundtruth.ivecs --M 16 --ef-construction 200 --ef 16,32,64,128,256
        """
    )

    @Option(help: "Base vectors (.fvecs).") var base: String
    @Option(help: "Query vectors (.fvecs).") var query: String
    @Option(help: "Ground truth neighbour ids (.ivecs).") var groundtruth: String
    @Option(name: .customLong("M"), help: "Neighbours per node.") var m = 16
    @Option(help: "Beam width while building.") var efConstruction = 200
    @Option(help: "Comma-separated beam widths to search with.") var ef = "16,32,64,128,256"
    @Option(help: "l2, cosine or dot (ip).") var metric = "l2"
    @Option(help: "Comma-separated numbers of concurrent searchers to time (each figure is the total QPS).") var threads = "1"
    @Option(help: "int8: the segments code vectors for the graph walk; the final candidates are re-ranked exactly.") var quantization: String?
    @Option(help: "Repeat the query set until each figure took at least this long.") var minimumSeconds = 1.0
    @Option(help: "Threads that build the graph (default: every core).") var buildThreads = ProcessInfo.processInfo.activeProcessorCount
    @Flag(help: "Time the bare HNSW index (in the locality order and with the sketches segments store) instead of the database's search path.") var rawIndex = false
    @Flag(help: ArgumentHelp("Also build the bare index in this process (the same graph: use --build-threads 1) and time it and the "
                             + "database's path in alternating passes, for the path's cost per query.")) var pairedWithBare = false
    @Option(help: "Where the database goes (a temporary directory by default).") var workDirectory = NSTemporaryDirectory()
    @Option(help: ArgumentHelp("Also run filtered searches keeping these fractions of the ids (as ann_peers.py --filter-frac).",
                               valueName: "fractions")) var filterFrac: String?

    func validate() throws {
        guard ["l2", "cosine", "dot", "ip"].contains(metric) else { throw ValidationError("--metric must be l2, cosine, dot or ip") }
        guard !searcherCounts.isEmpty, searcherCounts.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--threads takes counts such as 1,2") }
        if let quantization, VectorQuantization(rawValue: quantization) == nil { throw ValidationError("--quantization must be int8") }
    }

    func run() async throws {
        let distance: DistanceMetric = metric == "ip" ? .dot : DistanceMetric(rawValue: metric)!
        let baseSet = try TexmexFile.read(base, as: Float.self)
        let querySet = try TexmexFile.read(query, as: Float.self)
        let truth = try TexmexFile.read(groundtruth, as: Int32.self)
        // Stored vectors are kept as given (cosine keeps a scale per vector); queries are unit length.
        let baseVectors = baseSet.values
        var queryVectors = querySet.values
        if distance.normalizesVectors {
            for row in 0..<querySet.rows { normalize(&queryVectors, row: row, dimensions: querySet.dimensions) }
        }
        print("data n=\(baseSet.rows) d=\(baseSet.dimensions) nq=\(querySet.rows) metric=\(metric) M=\(m) efC=\(efConstruction)")
        if rawIndex {
            try runRawIndex(baseVectors, baseSet.rows, queryVectors, querySet.rows, dimensions: baseSet.dimensions,
                            metric: distance, truth: truth)
        } else {
            try await runDatabase(baseVectors, baseSet.rows, queryVectors, querySet.rows, dimensions: baseSet.dimensions,
                                  metric: distance, truth: truth)
        }
    }

    private var beams: [Int] { ef.split(separator: ",").compactMap { Int($0) } }
    private var searcherCounts: [Int] { threads.split(separator: ",").compactMap { Int($0) } }

    /// Times `search` (query number → hit rows) with `searchers` threads sharing the query set,
    /// repeating it until `minimumSeconds` have passed. Returns each query's hits and the QPS.
    private func measure(queries: Int, searchers: Int, _ search: @escaping @Sendable (Int) throws -> [Int]) throws -> (hits: [[Int]], qps: Double) {
        let results = ResultSlots(count: queries)
        let minimum = minimumSeconds
        let started = ContinuousClock.now
        let done = Mutex<(queries: Int, error: (any Error)?)>((0, nil))
        DispatchQueue.concurrentPerform(iterations: searchers) { searcher in
            var answered = 0, firstPass = true
            do {
                repeat {
                    for query in stride(from: searcher, to: queries, by: searchers) {
                        let hits = try search(query)
                        if firstPass { results.set(query, hits) }
                    }
                    answered += (queries - searcher + searchers - 1) / searchers
                    firstPass = false
                } while (ContinuousClock.now - started).seconds < minimum
            } catch {
                done.withLock { $0.error = error }
            }
            done.withLock { $0.queries += answered }
        }
        let seconds = (ContinuousClock.now - started).seconds
        let (answered, failure) = done.withLock { ($0.queries, $0.error) }
        if let failure { throw failure }
        return (results.values, Double(answered) / seconds)
    }

    private func report(_ label: String, _ beam: Int, _ results: [[Int]], qps: Double, truth: (rows: Int, dimensions: Int, values: [Int32])) {
        var found = 0
        for (row, hits) in results.enumerated() {
            let expected = Set((0..<10).map { Int(truth.values[row * truth.dimensions + $0]) })
            found += hits.filter(expected.contains).count
        }
        let recall = Double(found) / Double(results.count * 10)
        print(String(format: "  %@ ef=%4d recall@10=%.4f qps=%8.0f", label, beam, recall, qps))
    }

    /// The label of a figure: `cairn`, then the quantization and the searcher count when not 1.
    private func label(_ base: String, searchers: Int) -> String {
        base + (quantization.map { "-\($0)" } ?? "") + (searchers > 1 ? "-\(searchers)threads" : "")
    }

    /// Puts every vector into a database (the row number as a property) and flushes it into one
    /// segment (the build time: puts, the live graph's linking and the flush), then asks the
    /// database one query at a time; then reopens it. Peak memory is reported beyond what the
    /// process held before the database opened (the data set, the queries, the truth).
    private func runDatabase(_ base: [Float], _ rows: Int, _ queries: [Float], _ queryCount: Int, dimensions: Int,
                             metric: DistanceMetric, truth: (rows: Int, dimensions: Int, values: [Int32])) async throws {
        let queryArrays = (0..<queryCount).map { Array(queries[$0 * dimensions..<($0 + 1) * dimensions]) }
        let dataSet = PeakMemory.currentMebibytes()
        let path = workDirectory + "/cairn-bench-ann-\(UUID().uuidString.prefix(6))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = EngineOptions()
        options.memtableFlushBytes = Int.max
        options.graphBuildThreads = buildThreads
        let index = try await buildAndSearch(at: path, options: options, base, rows, queryArrays, dimensions: dimensions, metric: metric,
                                             truth: truth, dataSet: dataSet)
        let searchPeak = PeakMemory.mebibytes()
        let reopenStarted = ContinuousClock.now
        let reopened = try await Database.open(at: path, options: options)
        let reopenSeconds = (ContinuousClock.now - reopenStarted).seconds
        _ = try reopened.search(queryArrays[0], in: "ann", limit: 10)
        await reopened.close()
        print(String(format: "cairn: peak memory beyond the data set through the searches %.0f MiB = %.2fx the index; "
                     + "reopen %.0f ms (graph used in place, nothing rebuilt)",
                     searchPeak - dataSet, (searchPeak - dataSet) / index, reopenSeconds * 1000))
    }

    /// The build and the searches of `runDatabase`. Returns the mebibytes of the segment blocks
    /// searches read (vectors, graph, codes). The database is closed and released on return.
    private func buildAndSearch(at path: String, options: EngineOptions, _ base: [Float], _ rows: Int, _ queryArrays: [[Float]],
                                dimensions: Int, metric: DistanceMetric, truth: (rows: Int, dimensions: Int, values: [Int32]),
                                dataSet: Double) async throws -> Double {
        let db = try await Database.open(at: path, options: options)
        try await db.createCollection(CollectionSchema(
            name: "ann", dimensions: dimensions, metric: metric,
            properties: [PropertyDefinition(name: "row", type: PropertyType(.int)),
                         PropertyDefinition(name: "bucket", type: PropertyType(.int))],
            hnsw: HNSWParameters(M: m, efConstruction: efConstruction), quantization: quantization.flatMap(VectorQuantization.init(rawValue:))))
        // Build: durable puts while the indexer links the memtable's live graph in the
        // background (one thread), then the flush: it finishes that graph, or builds the
        // segment's on every core when the indexer is less than half way.
        let started = ContinuousClock.now
        for start in stride(from: 0, to: rows, by: 1000) {
            let batch = (start..<min(rows, start + 1000)).map { row in
                NewObject(id: RowID.uuid(of: row), properties: ["row": .int(Int64(row)), "bucket": .int(Int64(FilterBuckets.bucket(of: row)))],
                          vector: Array(base[row * dimensions..<(row + 1) * dimensions]))
            }
            try await db.put(batch, into: "ann")
        }
        let ingestSeconds = (ContinuousClock.now - started).seconds
        let ingestPeak = PeakMemory.mebibytes()
        try await db.flush()
        let buildSeconds = (ContinuousClock.now - started).seconds
        let flushPeak = PeakMemory.mebibytes()
        print(String(format: "cairn: build %.1fs (%.0f vec/s, %d graph threads: puts %.1fs, index ready (flushed) at %.1fs, %.1fs after the last batch)",
                     buildSeconds, Double(rows) / buildSeconds, options.graphBuildThreads, ingestSeconds, buildSeconds, buildSeconds - ingestSeconds))
        let memory = db.stats().searchMemory
        let index = Double(memory.vectorBytes + memory.graphBytes + memory.codeBytes + memory.sketchBytes) / 1_048_576
        print(String(format: "cairn: search memory %.0f MiB vectors, %.0f MiB graph, %.0f MiB codes, %.1f MiB sketches (mapped segment blocks)",
                     Double(memory.vectorBytes) / 1_048_576, Double(memory.graphBytes) / 1_048_576, Double(memory.codeBytes) / 1_048_576,
                     Double(memory.sketchBytes) / 1_048_576))
        print(String(format: "cairn: peak memory beyond the data set (%.0f MiB resident before the database opened): "
                     + "%.0f MiB after the puts, %.0f MiB after the flush = %.2fx the index",
                     dataSet, ingestPeak - dataSet, flushPeak - dataSet, (flushPeak - dataSet) / index))
        for beam in beams {
            for searchers in searcherCounts {
                // Only the ids: the row is in them (as a user asks for what it needs).
                let (results, qps) = try measure(queries: queryArrays.count, searchers: searchers) { query in
                    try db.search(queryArrays[query], in: "ann", limit: 10, ef: beam, fields: []).map { RowID.row(of: $0.object.id) }
                }
                report(label("cairn", searchers: searchers), beam, results, qps: qps, truth: truth)
            }
        }
        if pairedWithBare {
            try comparePaths(db, base: base, rows: rows, queries: queryArrays, dimensions: dimensions, metric: metric)
        }
        for fraction in (filterFrac ?? "").split(separator: ",").compactMap({ Double($0) }) {
            try runFiltered(db, fraction: fraction, base: base, rows: rows, queries: queryArrays, dimensions: dimensions, metric: metric)
        }
        await db.close()
        return index
    }

    /// Times the database's search path and the bare index over the same graph in alternating
    /// passes over the query set (so drifts of the machine hit both alike), and prints each QPS
    /// and the path's cost per query.
    private func comparePaths(_ db: Database, base: [Float], rows: Int, queries: [[Float]], dimensions: Int, metric: DistanceMetric) throws {
        let (index, order) = bareIndex(base, rows: rows, dimensions: dimensions, metric: metric)
        let sketches = BareSketches(index, threads: buildThreads)
        for beam in beams {
            var databaseSeconds = 0.0, bareSeconds = 0.0, passes = 0, differing = 0
            repeat {
                var started = ContinuousClock.now
                var fromDatabase: [[Int]] = []
                for query in queries {
                    fromDatabase.append(try db.search(query, in: "ann", limit: 10, ef: beam, fields: []).map { RowID.row(of: $0.object.id) })
                }
                databaseSeconds += (ContinuousClock.now - started).seconds
                started = ContinuousClock.now
                var fromIndex: [[Int]] = []
                for query in queries {
                    fromIndex.append(query.withUnsafeBufferPointer {
                        index.search($0.baseAddress!, k: 10, ef: beam, sketches: sketches.view).map { Int(order[$0.row]) }
                    })
                }
                bareSeconds += (ContinuousClock.now - started).seconds
                if passes == 0 { differing = zip(fromDatabase, fromIndex).filter { $0 != $1 }.count }
                passes += 1
            } while databaseSeconds + bareSeconds < 2 * minimumSeconds
            let count = Double(queries.count * passes)
            print(String(format: "  paired ef=%4d database %8.0f qps, bare index %8.0f qps: the path costs %+.1f%% (%.2f µs a query; "
                         + "%d of %d queries answered differently)", beam, count / databaseSeconds, count / bareSeconds,
                         (databaseSeconds / bareSeconds - 1) * 100, (databaseSeconds - bareSeconds) / count * 1e6, differing, queries.count))
        }
    }

    /// Filtered search keeping `fraction` of the ids (the ann_peers.py selection), against exact
    /// filtered ground truth computed here by brute force.
    private func runFiltered(_ db: Database, fraction: Double, base: [Float], rows: Int, queries: [[Float]],
                             dimensions: Int, metric: DistanceMetric) throws {
        let cutoff = Int(fraction * Double(FilterBuckets.modulus))
        let allowedRows = (0..<rows).filter { FilterBuckets.bucket(of: $0) < cutoff }
        let filter = try db.parseFilter("bucket < \(cutoff)", for: "ann")
        var truth: [Set<Int>] = []
        base.withUnsafeBufferPointer { vectors in
            for query in queries {
                var top = TopK(k: 10)
                query.withUnsafeBufferPointer { q in
                    for row in allowedRows {
                        let vector = vectors.baseAddress! + row * dimensions
                        top.offer(distance: metric.distance(q.baseAddress!, vector, count: dimensions,
                                                            scale: metric.scale(of: UnsafeBufferPointer(start: vector, count: dimensions))), row: row)
                    }
                }
                truth.append(Set(top.sorted().map(\.row)))
            }
        }
        for beam in beams {
            let (results, qps) = try measure(queries: queries.count, searchers: 1) { query in
                try db.search(queries[query], in: "ann", limit: 10, filter: filter, ef: beam, fields: []).map { RowID.row(of: $0.object.id) }
            }
            let found = results.enumerated().reduce(0) { $0 + $1.element.filter(truth[$1.offset].contains).count }
            print(String(format: "  %@ ef=%4d recall@10=%.4f qps=%8.0f (allowed %d)", label("cairn-filter\(fraction)", searchers: 1), beam,
                         Double(found) / Double(queries.count * 10), qps, allowedRows.count))
        }
    }

    private func runRawIndex(_ base: [Float], _ rows: Int, _ queries: [Float], _ queryCount: Int, dimensions: Int,
                             metric: DistanceMetric, truth: (rows: Int, dimensions: Int, values: [Int32])) throws {
        let started = ContinuousClock.now
        let (index, order) = bareIndex(base, rows: rows, dimensions: dimensions, metric: metric)
        let sketches = BareSketches(index, threads: buildThreads)
        let buildSeconds = (ContinuousClock.now - started).seconds
        print(String(format: "cairn: build %.1fs (%.0f vec/s, %d threads, bare index)", buildSeconds, Double(rows) / buildSeconds, buildThreads))
        let queryArrays = (0..<queryCount).map { Array(queries[$0 * dimensions..<($0 + 1) * dimensions]) }
        for beam in beams {
            for searchers in searcherCounts {
                let (results, qps) = try measure(queries: queryCount, searchers: searchers) { query in
                    queryArrays[query].withUnsafeBufferPointer {
                        index.search($0.baseAddress!, k: 10, ef: beam, sketches: sketches.view).map { Int(order[$0.row]) }
                    }
                }
                report(label("cairn-bare", searchers: searchers), beam, results, qps: qps, truth: truth)
            }
        }
    }

    /// The sign sketches a segment would store for the bare index (none for the inner product),
    /// in memory for as long as this lives.
    private final class BareSketches: @unchecked Sendable {
        let view: SignSketches?
        private let center: UnsafeMutablePointer<Float>
        private let records: UnsafeMutableRawPointer

        init(_ index: HNSWIndex, threads: Int) {
            let dimensions = index.dimensions, stride = SignSketches.stride(dimensions: dimensions)
            center = .allocate(capacity: SignSketches.paddedDimensions(dimensions))
            records = .allocate(byteCount: max(1, index.count * stride), alignment: 64)
            guard SignSketches.supports(index.metric) else {
                view = nil
                return
            }
            index.encodeSketches(center: center, records: records, threads: threads)
            let sketches = SignSketches(center: center, records: records, dimensions: dimensions, count: index.count)
            view = index.sketchScreeningShare(sketches) >= SignSketches.minimumScreeningShare ? sketches : nil
        }

        deinit {
            center.deallocate()
            records.deallocate()
        }
    }

    /// The bare index over `base`, its nodes renumbered in locality order as a segment stores
    /// them (the same layout the database's searches walk), and the order: node `i` is row `order[i]`.
    private func bareIndex(_ base: [Float], rows: Int, dimensions: Int, metric: DistanceMetric) -> (HNSWIndex, [UInt32]) {
        let built = base.withUnsafeBufferPointer { vectors in
            HNSWIndex.build(vectors: vectors.baseAddress!, rows: rows, dimensions: dimensions, metric: metric,
                            parameters: HNSWParameters(M: m, efConstruction: efConstruction), threads: buildThreads)
        }
        let order = built.localityOrder()
        return (built.renumbered(order), order)
    }

    private func normalize(_ values: inout [Float], row: Int, dimensions: Int) {
        values.withUnsafeMutableBufferPointer { buffer in
            _ = VectorKernels.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * dimensions..<(row + 1) * dimensions]))
        }
    }
}

/// The id selection of ann_peers.py's filtered benchmark: row i is kept when
/// (i × 2654435761) mod 10007 < fraction × 10007, a subset uncorrelated with the clusters.
enum FilterBuckets {
    static let modulus = 10_007

    static func bucket(of row: Int) -> Int { Int((UInt64(row) &* 2_654_435_761) % UInt64(modulus)) }
}

/// The process's resident memory.
enum PeakMemory {
    /// The most the process has had resident so far.
    static func mebibytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }

    /// What the process has resident now (`/proc/self/statm`; 0 where there is none).
    static func currentMebibytes() -> Double {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = statm.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }
}

/// Object ids that carry the row number of the data set (in their last 8 bytes), so a search
/// that returns only ids can be checked against the ground truth.
enum RowID {
    static func uuid(of row: Int) -> UUID {
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: UInt64(row).bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        bytes[6] = 0x40 // version 4 shape, so the id reads like any other
        return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                           bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
    }

    static func row(of id: UUID) -> Int {
        let bytes = id.uuid
        return [bytes.8, bytes.9, bytes.10, bytes.11, bytes.12, bytes.13, bytes.14, bytes.15].reduce(0) { $0 << 8 | Int($1) }
    }
}

/// The hits of each query, written by concurrent searchers (each query by one of them).
final class ResultSlots: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [[Int]]

    init(count: Int) { slots = Array(repeating: [], count: count) }

    func set(_ query: Int, _ hits: [Int]) { lock.withLock { slots[query] = hits } }

    var values: [[Int]] { lock.withLock { slots } }
}
