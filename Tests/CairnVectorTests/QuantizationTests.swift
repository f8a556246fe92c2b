import CCairnSupport
import CairnTestSupport
@testable import CairnVector
import Testing

@Suite("Quantized traversal")
struct QuantizationTests {
    static let dimensions = 48

    /// A quantizer over the data's ranges, and every row's code.
    private func codes(of vectors: [Float], count: Int) -> (ScalarQuantizer, [UInt8]) {
        var minimum = [Float](repeating: .infinity, count: Self.dimensions), maximum = [Float](repeating: -.infinity, count: Self.dimensions)
        for row in 0..<count {
            for d in 0..<Self.dimensions {
                minimum[d] = min(minimum[d], vectors[row * Self.dimensions + d])
                maximum[d] = max(maximum[d], vectors[row * Self.dimensions + d])
            }
        }
        let quantizer = ScalarQuantizer(minimum: minimum, maximum: maximum)
        var codes = [UInt8](repeating: 0, count: count * Self.dimensions)
        vectors.withUnsafeBufferPointer { base in
            codes.withUnsafeMutableBufferPointer { out in
                for row in 0..<count { quantizer.encode(base.baseAddress! + row * Self.dimensions, into: out.baseAddress! + row * Self.dimensions) }
            }
        }
        return (quantizer, codes)
    }

    /// Links the first `count` of `vectors` into a graph, codes them, and calls `body` with the
    /// graph, the codes and each of the next `queries` vectors as a query (unit length when the
    /// metric compares directions).
    private func forEachQuery(_ vectors: [Float], count: Int, queries: Int, metric: DistanceMetric, parameters: HNSWParameters,
                              _ body: (HNSWIndex, QuantizedVectors, UnsafePointer<Float>) -> Void) {
        let index = HNSWIndex(dimensions: Self.dimensions, metric: metric, parameters: parameters)
        vectors.withUnsafeBufferPointer { base in for row in 0..<count { index.insert(base.baseAddress! + row * Self.dimensions) } }
        let (quantizer, codeBytes) = codes(of: vectors, count: count)
        let norms = (0..<count).map { row in codeBytes.withUnsafeBufferPointer { quantizer.decodedSquaredNorm($0.baseAddress! + row * Self.dimensions) } }
        quantizer.lower.withUnsafeBufferPointer { lower in
            quantizer.step.withUnsafeBufferPointer { step in
                codeBytes.withUnsafeBufferPointer { codeBase in
                    norms.withUnsafeBufferPointer { normBase in
                        let codes = QuantizedVectors(lower: lower.baseAddress!, step: step.baseAddress!, codes: codeBase.baseAddress!,
                                                     squaredNorms: metric == .l2 ? normBase.baseAddress! : nil,
                                                     dimensions: Self.dimensions, count: count)
                        for query in count..<(count + queries) {
                            var q = Array(vectors[query * Self.dimensions..<(query + 1) * Self.dimensions])
                            if metric.normalizesVectors { q.withUnsafeMutableBufferPointer { _ = VectorKernels.normalize($0) } }
                            q.withUnsafeBufferPointer { body(index, codes, $0.baseAddress!) }
                        }
                    }
                }
            }
        }
    }

    @Test("a code reads back within half a step of each component, and clips values outside the range")
    func roundTrip() {
        let vectors = ClusteredData.vectors(count: 500, dimensions: Self.dimensions, seed: 11)
        let (quantizer, codes) = codes(of: vectors, count: 500)
        for row in 0..<500 {
            for d in 0..<Self.dimensions {
                let decoded = quantizer.lower[d] + quantizer.step[d] * Float(codes[row * Self.dimensions + d])
                #expect(abs(decoded - vectors[row * Self.dimensions + d]) <= quantizer.step[d] * 0.5001)
            }
        }
        var outside = [Float](repeating: 1e9, count: Self.dimensions)
        outside[0] = -1e9
        var code = [UInt8](repeating: 7, count: Self.dimensions)
        outside.withUnsafeBufferPointer { vector in code.withUnsafeMutableBufferPointer { quantizer.encode(vector.baseAddress!, into: $0.baseAddress!) } }
        #expect(code[0] == 0 && code[1...].allSatisfy { $0 == 255 })
        let flat = ScalarQuantizer(minimum: [2, 2], maximum: [2, 3])
        #expect(flat.step[0] == 1 && flat.step[1] > 0)
    }

    @Test("the code kernel equals an integer loop at every length, up to the largest weights and codes",
          arguments: [1, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 384, 8192])
    func kernel(count: Int) {
        var generator = SeededGenerator(seed: UInt64(count))
        let largest = QuantizedDistance.largestWeight(dimensions: count)
        let weights = (0..<count).map { _ in Int16(Int.random(in: -largest...largest, using: &generator)) }
        let codes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let top = [UInt8](repeating: 255, count: count)
        // Every path this CPU can run (AVX-512BW, AVX2, portable), not only the one it takes.
        for level in 0...cairn_dot_i16_u8_level() {
            func dot(_ weights: [Int16], _ codes: [UInt8]) -> Int32 { cairn_dot_i16_u8_using(level, weights, codes, count) }
            #expect(dot(weights, codes) == Int32(zip(weights, codes).reduce(0) { $0 + Int($1.0) * Int($1.1) }), "path \(level)")
            // The extremes: every product at its largest, of either sign.
            #expect(dot([Int16](repeating: Int16(largest), count: count), top) == Int32(largest * 255 * count), "path \(level)")
            #expect(dot([Int16](repeating: Int16(-largest), count: count), top) == Int32(-largest * 255 * count), "path \(level)")
        }
    }

    @Test("a walk over codes keeps recall@10 ≥ 0.95 and returns exact distances", arguments: DistanceMetric.allCases)
    func recall(metric: DistanceMetric) {
        let count = 8_000
        var vectors = ClusteredData.vectors(count: count + 100, dimensions: Self.dimensions, seed: 12)
        if metric == .dot {
            vectors.withUnsafeMutableBufferPointer { buffer in
                for row in 0..<(count + 100) {
                    _ = VectorKernels.normalize(UnsafeMutableBufferPointer(rebasing: buffer[row * Self.dimensions..<(row + 1) * Self.dimensions]))
                }
            }
        }
        var found = 0, mismatched = 0
        forEachQuery(vectors, count: count, queries: 100, metric: metric, parameters: HNSWParameters(M: 16, efConstruction: 100)) { index, codes, q in
            let hits = index.search(q, k: 10, ef: 64, codes: codes)
            let truth = Set(index.search(q, k: 10, ef: 400).map(\.row))
            found += hits.filter { truth.contains($0.row) }.count
            for hit in hits {
                let exact = metric.distance(q, index.vector(hit.row), count: Self.dimensions, scale: index.scale(hit.row))
                if hit.distance != exact { mismatched += 1 }
            }
            #expect(hits.map(\.distance) == hits.map(\.distance).sorted())
        }
        #expect(Double(found) / 1000 >= 0.95, "recall@10 over codes = \(Double(found) / 1000) for \(metric)")
        #expect(mismatched == 0)
    }

    @Test("the approximate distance bounds the exact one from below, closely enough to spare most re-ranking reads",
          arguments: DistanceMetric.allCases)
    func exactDistanceBound(metric: DistanceMetric) {
        let count = 2_000
        let vectors = ClusteredData.vectors(count: count + 20, dimensions: Self.dimensions, seed: 13)
        var below = 0, beyondTenth = 0
        forEachQuery(vectors, count: count, queries: 20, metric: metric, parameters: HNSWParameters(M: 8, efConstruction: 32)) { index, codes, q in
            withUnsafeTemporaryAllocation(of: Int16.self, capacity: Self.dimensions) { weights in
                let approximate = QuantizedDistance(q, codes: codes, in: index, weights: weights.baseAddress!)
                let exact = (0..<count).map { metric.distance(q, index.vector($0), count: Self.dimensions, scale: index.scale($0)) }
                let tenth = exact.sorted()[9]
                for node in 0..<count {
                    let lowest = approximate.lowestExact(approximate.distance(to: UInt32(node)), node: UInt32(node))
                    if lowest <= exact[node] { below += 1 }
                    if lowest > tenth { beyondTenth += 1 }
                }
            }
        }
        #expect(below == 20 * count, "\(20 * count - below) bounds above the exact distance for \(metric)")
        #expect(beyondTenth >= 20 * count / 2, "only \(beyondTenth) of \(20 * count) nodes provably outside the top 10 for \(metric)")
    }
}
