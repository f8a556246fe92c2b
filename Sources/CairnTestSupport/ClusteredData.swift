import Foundation

/// Clustered Gaussian vectors (like `shared/bench/ann_peers.py`): realistic neighbourhoods for
/// approximate search tests, generated from a seed.
public enum ClusteredData {
    /// `count` vectors of `dimensions` floats around `clusters` random centres, flattened row by row.
    public static func vectors(count: Int, dimensions: Int, clusters: Int = 50, spread: Float = 0.35, seed: UInt64) -> [Float] {
        var generator = SeededGenerator(seed: seed)
        let centers = (0..<clusters).map { _ in (0..<dimensions).map { _ in gaussian(&generator) } }
        var values: [Float] = []
        values.reserveCapacity(count * dimensions)
        for _ in 0..<count {
            let center = centers[Int(generator.next() % UInt64(clusters))]
            for value in center { values.append(value + spread * gaussian(&generator)) }
        }
        return values
    }

    private static func gaussian(_ generator: inout SeededGenerator) -> Float {
        let u1 = max(Double(generator.next() >> 11) / Double(1 << 53), 1e-12)
        let u2 = Double(generator.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}
