import CCairnSupport

/// How a graph walk measures the distance from its query to a node, and starts loading what
/// that will read. The walk is generic over it, so each kind compiles to its own loop.
@usableFromInline
protocol NodeDistance {
    /// The distance from the query to `node` (smaller is closer).
    func distance(to node: UInt32) -> Float
    /// Starts loading the memory `distance(to:)` will read for `node`.
    func prefetch(_ node: UInt32)
    /// The smallest exact distance `node` can have when this measure gave it `approximate`.
    func lowestExact(_ approximate: Float, node: UInt32) -> Float
}

/// Distances to the full vectors, as given (cosine applies each node's scale).
@usableFromInline
struct ExactDistance: NodeDistance {
    @usableFromInline let query: UnsafePointer<Float>
    @usableFromInline let vectors: UnsafePointer<Float>
    @usableFromInline let scales: UnsafePointer<Float>?
    @usableFromInline let dimensions: Int
    @usableFromInline let metric: DistanceMetric
    @usableFromInline let prefetchBytes: Int

    @inlinable init(_ query: UnsafePointer<Float>, in index: HNSWIndex) {
        self.query = query
        vectors = UnsafePointer(index.vectors.base)
        scales = index.isScaled ? UnsafePointer(index.scales.base) : nil
        dimensions = index.dimensions
        metric = index.metric
        // Up to `prefetchLines` lines of each vector (measured on 128-d: 1–2 lines 15–20% slower
        // than 4–8; the hardware prefetcher does not cover the rest in time).
        prefetchBytes = min(index.dimensions * MemoryLayout<Float>.stride, HNSWIndex.prefetchLines * 64)
    }

    @inlinable @inline(__always) func distance(to node: UInt32) -> Float {
        metric.distance(query, vectors + Int(node) * dimensions, count: dimensions, scale: scales?[Int(node)] ?? 1)
    }

    @inlinable @inline(__always) func prefetch(_ node: UInt32) {
        prefetchRange(UnsafeRawPointer(vectors + Int(node) * dimensions), bytes: prefetchBytes)
        if let scales { cairn_prefetch(scales + Int(node)) }
    }

    @inlinable @inline(__always) func lowestExact(_ approximate: Float, node: UInt32) -> Float { approximate }

    /// Starts loading all of `node`'s vector (re-ranking reads each one whole, once).
    @inlinable @inline(__always) func prefetchWhole(_ node: UInt32) {
        prefetchRange(UnsafeRawPointer(vectors + Int(node) * dimensions), bytes: dimensions * MemoryLayout<Float>.stride)
        if let scales { cairn_prefetch(scales + Int(node)) }
    }
}

/// Distances to 8-bit codes (`QuantizedVectors`). The inner product with a decoded vector is
/// `bias + Σ weight[d]·code[d]`, where `weight[d] = q[d]·step[d]` and `bias = Σ q[d]·lower[d]`;
/// cosine and L2 are built from it. The weights are rounded to 16-bit integers in steps of
/// `weightStep`, so the sum is one integer multiply-add per pair of components
/// (`cairn_dot_i16_u8`), exact in 32 bits.
@usableFromInline
struct QuantizedDistance: NodeDistance {
    @usableFromInline let weights: UnsafePointer<Int16>
    @usableFromInline let weightStep: Float
    @usableFromInline let bias: Float
    /// `‖q‖²`, for L2.
    @usableFromInline let querySquaredNorm: Float
    @usableFromInline let codes: QuantizedVectors
    @usableFromInline let scales: UnsafePointer<Float>?
    @usableFromInline let metric: DistanceMetric
    @usableFromInline let prefetchBytes: Int
    /// How far the computed inner product can be from that with a decoded vector: each weight
    /// was rounded by at most half a `weightStep`, times a code of at most 255.
    @usableFromInline let weightError: Float
    /// How far the computed inner product can be from that with the vector itself: each
    /// component was rounded by at most half a step, so `Σ |q[d]|·step[d] / 2`, plus `weightError`.
    @usableFromInline let productError: Float
    /// How far a decoded vector can be from the vector itself: `√(Σ step[d]²) / 2`.
    @usableFromInline let decodingError: Float

    /// The largest integer weight for `dimensions` components: below 2¹⁴, and small enough that
    /// `dimensions` products with codes up to 255 stay within 32 bits.
    @inlinable static func largestWeight(dimensions: Int) -> Int {
        min(16383, Int(Int32.max) / (255 * max(1, dimensions)))
    }

    /// Fills `weights` (`dimensions` integers the caller owns for the walk) for `query`.
    @inlinable init(_ query: UnsafePointer<Float>, codes: QuantizedVectors, in index: HNSWIndex,
                    weights: UnsafeMutablePointer<Int16>) {
        let dimensions = codes.dimensions
        var bias: Float = 0, norm: Float = 0, roundings: Float = 0, squaredSteps: Float = 0, largest: Float = 0
        for d in 0..<dimensions {
            let weight = query[d] * codes.step[d]
            bias += query[d] * codes.lower[d]
            norm += query[d] * query[d]
            roundings += abs(weight)
            largest = max(largest, abs(weight))
            squaredSteps += codes.step[d] * codes.step[d]
        }
        let limit = Float(Self.largestWeight(dimensions: dimensions))
        let step = largest > 0 ? largest / limit : 1
        for d in 0..<dimensions { weights[d] = Int16(max(-limit, min(limit, (query[d] * codes.step[d] / step).rounded()))) }
        // A little more than the rounding alone, for the floating-point error of the sums.
        let slack: Float = 1.001
        weightError = step / 2 * 255 * Float(dimensions) * slack + 1e-6
        productError = roundings / 2 * slack + weightError + 1e-6
        decodingError = squaredSteps.squareRoot() / 2 * slack + 1e-6
        self.weights = UnsafePointer(weights)
        weightStep = step
        self.bias = bias
        querySquaredNorm = norm
        self.codes = codes
        scales = index.isScaled ? UnsafePointer(index.scales.base) : nil
        metric = index.metric
        prefetchBytes = min(dimensions, HNSWIndex.prefetchLines * 64)
    }

    @inlinable @inline(__always) func distance(to node: UInt32) -> Float {
        let product = bias + weightStep * Float(cairn_dot_i16_u8(weights, codes.code(Int(node)), codes.dimensions))
        switch metric {
        case .cosine: return 1 - product * (scales?[Int(node)] ?? 1)
        case .dot: return -product
        case .l2: return querySquaredNorm - 2 * product + (codes.squaredNorms?[Int(node)] ?? 0)
        }
    }

    /// Cosine and dot: the inner product is off by at most `productError` (times the node's
    /// scale). L2: the squared distance to the decoded vector is off by at most twice
    /// `weightError`, and the distance between the vectors by at most `decodingError` (the
    /// triangle inequality).
    @inlinable @inline(__always) func lowestExact(_ approximate: Float, node: UInt32) -> Float {
        switch metric {
        case .cosine: return approximate - productError * (scales?[Int(node)] ?? 1)
        case .dot: return approximate - productError
        case .l2:
            let distance = max(0, approximate - 2 * weightError).squareRoot() - decodingError
            return distance > 0 ? distance * distance : 0
        }
    }

    @inlinable @inline(__always) func prefetch(_ node: UInt32) {
        prefetchRange(UnsafeRawPointer(codes.code(Int(node))), bytes: prefetchBytes)
        if let scales { cairn_prefetch(scales + Int(node)) }
        if let norms = codes.squaredNorms { cairn_prefetch(norms + Int(node)) }
    }
}

/// Starts loading every cache line that `bytes` bytes from `start` touch.
@inlinable @inline(__always)
func prefetchRange(_ start: UnsafeRawPointer, bytes: Int) {
    let first = Int(bitPattern: start) & ~63, end = Int(bitPattern: start) + bytes
    for line in stride(from: first, to: end, by: 64) { cairn_prefetch(UnsafeRawPointer(bitPattern: line)) }
}
