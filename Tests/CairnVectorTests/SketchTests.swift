import CairnTestSupport
@testable import CairnVector
import Testing

@Suite("Sign sketches")
struct SketchTests {
    /// Not a multiple of 32: the last word of bits is padded.
    static let dimensions = 100
    static let count = 6_000

    /// Overlapping clusters, spread like text embeddings (sketches help), or tight ones far from
    /// the mean (they do not).
    static func vectors(spread: Bool, count: Int, seed: UInt64) -> [Float] {
        spread ? ClusteredData.vectors(count: count, dimensions: dimensions, clusters: 200, spread: 1.0, seed: seed)
            : ClusteredData.vectors(count: count, dimensions: dimensions, clusters: 5, seed: seed)
    }

    private func unitIfCosine(_ query: [Float], _ metric: DistanceMetric) -> [Float] {
        var query = query
        if metric.normalizesVectors { query.withUnsafeMutableBufferPointer { _ = VectorKernels.normalize($0) } }
        return query
    }

    @Test("a sketch's bound is below the exact distance for all but a few percent of pairs, and close enough to rule most far nodes out",
          arguments: [DistanceMetric.l2, .cosine])
    func boundHolds(metric: DistanceMetric) {
        let data = Self.vectors(spread: true, count: Self.count + 50, seed: 11)
        let sketched = Sketched(data, count: Self.count, metric: metric)
        var pairs = 0, violations = 0, tight = 0
        sketched.withSketches { sketches in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: SketchBound.tableCount(sketches)) { table in
                for q in 0..<50 {
                    let query = unitIfCosine(Array(data[(Self.count + q) * Self.dimensions..<(Self.count + q + 1) * Self.dimensions]), metric)
                    query.withUnsafeBufferPointer { query in
                        let bound = SketchBound(query.baseAddress!, sketches: sketches, metric: metric, table: table.baseAddress!)
                        let exact = ExactDistance(query.baseAddress!, in: sketched.index)
                        for node in stride(from: UInt32(q), to: UInt32(Self.count), by: 37) {
                            let lower = bound.lowerBound(node), distance = exact.distance(to: node)
                            pairs += 1
                            if lower > distance + 1e-4 { violations += 1 }
                            if lower > distance * 0.5 { tight += 1 }
                        }
                    }
                }
            }
        }
        // ε = 1.9 is about a 97% one-sided bound on the estimate's error.
        #expect(Double(violations) / Double(pairs) < 0.05, "\(violations) of \(pairs) bounds above the distance")
        #expect(Double(tight) / Double(pairs) > 0.5, "only \(tight) of \(pairs) bounds above half the distance")
    }

    @Test("a vector at the center is bounded exactly")
    func centerIsExact() {
        let dimensions = Self.dimensions
        let center = (0..<SignSketches.paddedDimensions(dimensions)).map { $0 < dimensions ? Float($0 % 7) * 0.1 : 0 }
        var record = [UInt8](repeating: 0, count: SignSketches.stride(dimensions: dimensions))
        let query = (0..<dimensions).map { Float($0 % 5) * 0.2 }
        let exact = zip(center, query).reduce(Float(0)) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        record.withUnsafeMutableBytes { SignSketches.encode(center, scale: 1, center: center, dimensions: dimensions, into: $0.baseAddress!) }
        let lower = center.withUnsafeBufferPointer { center in
            record.withUnsafeBytes { records in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: SignSketches.paddedDimensions(dimensions) * 4) { table in
                    let sketches = SignSketches(center: center.baseAddress!, records: records.baseAddress!, dimensions: dimensions, count: 1)
                    return SketchBound(query, sketches: sketches, metric: .l2, table: table.baseAddress!).lowerBound(0)
                }
            }
        }
        #expect(abs(lower - exact) < 1e-3 * exact, "bound \(lower), distance \(exact)")
    }

    @Test("a screened walk keeps recall@10 within 0.01 of the plain one and returns exact distances, with and without a filter",
          arguments: [DistanceMetric.l2, .cosine], [false, true])
    func screenedWalk(metric: DistanceMetric, filtered: Bool) {
        // Filtered: a tenth of the rows, with the walk bounded as the engine bounds it.
        let isAllowed: ((UInt32) -> Bool)? = filtered ? { $0 % 10 == 3 } : nil
        let allowedBound: Double? = filtered ? 4.8 : nil
        let data = Self.vectors(spread: true, count: Self.count + 100, seed: 12)
        let sketched = Sketched(data, count: Self.count, metric: metric)
        var plainFound = 0, screenedFound = 0
        sketched.withSketches { sketches in
            for q in 0..<100 {
                let query = unitIfCosine(Array(data[(Self.count + q) * Self.dimensions..<(Self.count + q + 1) * Self.dimensions]), metric)
                query.withUnsafeBufferPointer { query in
                    var top = TopK(k: 10)
                    for row in 0..<Self.count where isAllowed?(UInt32(row)) ?? true {
                        top.offer(distance: metric.distance(query.baseAddress!, sketched.index.vector(row), count: Self.dimensions,
                                                            scale: sketched.index.scale(row)), row: row)
                    }
                    let truth = Set(top.sorted().map(\.row))
                    plainFound += sketched.index.search(query.baseAddress!, k: 10, ef: 48, isAllowed: isAllowed, allowedBound: allowedBound)
                        .filter { truth.contains($0.row) }.count
                    let screened = sketched.index.search(query.baseAddress!, k: 10, ef: 48, sketches: sketches,
                                                         isAllowed: isAllowed, allowedBound: allowedBound)
                    #expect(screened.count == 10 && screened.allSatisfy { isAllowed?(UInt32($0.row)) ?? true })
                    screenedFound += screened.filter { truth.contains($0.row) }.count
                    for hit in screened {
                        let distance = metric.distance(query.baseAddress!, sketched.index.vector(hit.row), count: Self.dimensions,
                                                       scale: sketched.index.scale(hit.row))
                        #expect(abs(hit.distance - distance) <= 1e-5 * max(1, abs(distance)))
                    }
                }
            }
        }
        #expect(Double(plainFound) / 1000 >= (filtered ? 0.75 : 0.9), "plain recall@10 \(Double(plainFound) / 1000)")
        #expect(Double(screenedFound) >= Double(plainFound) - 10, "screened \(screenedFound) against plain \(plainFound) of 1000")
    }

    @Test("the screening share is high on spread-out data and low on tight clusters far from the mean")
    func screeningShare() {
        let spread = Sketched(Self.vectors(spread: true, count: Self.count, seed: 13), count: Self.count, metric: .l2)
        let tight = Sketched(Self.vectors(spread: false, count: Self.count, seed: 13), count: Self.count, metric: .l2)
        let spreadShare = spread.withSketches { spread.index.sketchScreeningShare($0) }
        let tightShare = tight.withSketches { tight.index.sketchScreeningShare($0) }
        #expect(spreadShare >= SignSketches.minimumScreeningShare, "spread-out data: \(spreadShare)")
        #expect(tightShare < SignSketches.minimumScreeningShare, "tight clusters: \(tightShare)")
    }
}

/// A graph over `vectors` (and, for cosine, unit queries), its sketches' center and records.
private final class Sketched {
    let index: HNSWIndex
    let center: [Float]
    let records: [UInt8]

    init(_ vectors: [Float], count: Int, metric: DistanceMetric) {
        let index = vectors.withUnsafeBufferPointer {
            HNSWIndex.build(vectors: $0.baseAddress!, rows: count, dimensions: SketchTests.dimensions, metric: metric,
                            parameters: HNSWParameters(M: 16, efConstruction: 100), threads: 1)
        }
        let dimensions = SketchTests.dimensions, stride = SignSketches.stride(dimensions: dimensions)
        var center = [Float](repeating: 0, count: SignSketches.paddedDimensions(dimensions))
        var records = [UInt8](repeating: 0, count: count * stride)
        center.withUnsafeMutableBufferPointer { center in
            records.withUnsafeMutableBytes { index.encodeSketches(center: center.baseAddress!, records: $0.baseAddress!, threads: 2) }
        }
        self.index = index
        self.center = center
        self.records = records
    }

    func withSketches<Result>(_ body: (SignSketches) -> Result) -> Result {
        center.withUnsafeBufferPointer { center in
            records.withUnsafeBytes { records in
                body(SignSketches(center: center.baseAddress!, records: records.baseAddress!, dimensions: SketchTests.dimensions,
                                  count: index.count))
            }
        }
    }
}
