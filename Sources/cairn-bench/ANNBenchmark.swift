import ArgumentParser
import Cairn
import Foundation

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
    @Option(help: "Threads (only 1 is supported for now).") var threads = 1

    func validate() throws {
        guard ["l2", "cosine", "dot", "ip"].contains(metric) else { throw ValidationError("--metric must be l2, cosine, dot or ip") }
        guard threads == 1 else { throw ValidationError("only --threads 1 is supported for now") }
    }

    func run() throws {
        let distance: DistanceMetric = metric == "ip" ? .dot : DistanceMetric(rawValue: metric)!
        let baseSet = try TexmexFile.read(base, as: Float.self)
        let querySet = try TexmexFile.read(query, as: Float.self)
        let truth = try TexmexFile.read(groundtruth, as: Int32.self)
        var baseVectors = baseSet.values, queryVectors = querySet.values
        if distance.normalizesVectors {
            for row in 0..<baseSet.rows { normalize(&baseVectors, row: row, dimensions: baseSet.dimensions) }
            for row in 0..<querySet.rows { normalize(&queryVectors, row: row, dimensions: querySet.dimensions) }
        }
        print("data n=\(baseSet.rows) d=\(baseSet.dimensions) nq=\(querySet.rows) metric=\(metric) M=\(m) efC=\(efConstruction)")
        let index = HNSWIndex(dimensions: baseSet.dimensions, metric: distance,
                              parameters: HNSWParameters(M: m, efConstruction: efConstruction), capacity: baseSet.rows)
        let started = ContinuousClock.now
        baseVectors.withUnsafeBufferPointer { vectors in
            for row in 0..<baseSet.rows { index.insert(vectors.baseAddress! + row * baseSet.dimensions) }
        }
        let buildSeconds = (ContinuousClock.now - started).seconds
        print(String(format: "cairn: build %.1fs (%.0f vec/s, 1 thread)", buildSeconds, Double(baseSet.rows) / buildSeconds))
        for beam in ef.split(separator: ",").compactMap({ Int($0) }) {
            var found = 0
            let searchStarted = ContinuousClock.now
            var results: [[Int]] = []
            results.reserveCapacity(querySet.rows)
            queryVectors.withUnsafeBufferPointer { queries in
                for row in 0..<querySet.rows {
                    let hits = index.search(queries.baseAddress! + row * querySet.dimensions, k: 10, ef: beam)
                    results.append(hits.map(\.row))
                }
            }
            let seconds = (ContinuousClock.now - searchStarted).seconds
            for (row, hits) in results.enumerated() {
                let expected = Set((0..<10).map { Int(truth.values[row * truth.dimensions + $0]) })
                found += hits.filter(expected.contains).count
            }
            let recall = Double(found) / Double(querySet.rows * 10)
            print(String(format: "  cairn ef=%4d recall@10=%.4f qps=%8.0f", beam, recall, Double(querySet.rows) / seconds))
        }
    }

    private func normalize(_ values: inout [Float], row: Int, dimensions: Int) {
        values.withUnsafeMutableBufferPointer { buffer in
            _ = VectorKernels.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * dimensions..<(row + 1) * dimensions]))
        }
    }
}
