import CairnTestSupport
import CairnVector
import Testing

@Suite("Distance kernels")
struct KernelTests {
    private func reference(_ metric: DistanceMetric, _ a: [Float], _ b: [Float]) -> Double {
        let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        switch metric {
        case .l2: return zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        case .dot: return -dot
        case .cosine: return 1 - dot
        }
    }

    @Test("SIMD kernels match a double-precision reference for every length", arguments: [1, 3, 7, 8, 9, 31, 32, 33, 100, 128, 384, 1536])
    func matchesReference(count: Int) {
        var generator = SeededGenerator(seed: UInt64(count))
        for metric in DistanceMetric.allCases {
            var a = generator.vector(count), b = generator.vector(count)
            if metric == .cosine {
                #expect(a.withUnsafeMutableBufferPointer { VectorKernels.normalize($0) })
                #expect(b.withUnsafeMutableBufferPointer { VectorKernels.normalize($0) })
            }
            let distance = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in metric.distance(pa.baseAddress!, pb.baseAddress!, count: count) }
            }
            #expect(abs(Double(distance) - reference(metric, a, b)) < 1e-4 * Double(max(1, count / 32)))
        }
    }

    @Test("normalising a zero vector fails and leaves it unchanged")
    func zeroVector() {
        var zero = [Float](repeating: 0, count: 16)
        #expect(!zero.withUnsafeMutableBufferPointer { VectorKernels.normalize($0) })
        #expect(zero.allSatisfy { $0 == 0 })
    }

    @Test("allFinite finds a NaN or an infinity at any position, and passes extreme finite values", arguments: [1, 15, 16, 17, 96, 384])
    func allFinite(length: Int) {
        let finite = (0..<length).map { Float($0 % 2 == 0 ? 1 : -1) * .greatestFiniteMagnitude }
        #expect(finite.withUnsafeBufferPointer(VectorKernels.allFinite))
        for position in [0, length / 2, length - 1] {
            for bad in [Float.nan, .infinity, -.infinity] {
                var vector = finite
                vector[position] = bad
                #expect(!vector.withUnsafeBufferPointer(VectorKernels.allFinite), "\(bad) at \(position) of \(length)")
            }
        }
    }

    @Test("TopK keeps the k smallest distances in order")
    func topK() {
        var generator = SeededGenerator(seed: 5)
        let distances = (0..<1000).map { _ in generator.nextFloat() }
        var top = TopK(k: 10)
        for (row, distance) in distances.enumerated() { top.offer(distance: distance, row: row) }
        let expected = distances.enumerated().sorted { $0.element < $1.element }.prefix(10).map(\.offset)
        #expect(top.sorted().map(\.row) == expected)
    }
}
