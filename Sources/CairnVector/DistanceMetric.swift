/// How closeness between two vectors is measured. Every metric is expressed as a distance:
/// smaller is closer.
///
/// Stored vectors are kept exactly as given. For cosine, the query is normalised once and each
/// stored vector carries its *scale*, the inverse of its norm, so the distance is
/// `1 − (q̂·v)·scale(v)`: one multiply more than a dot product, and no second copy of the vectors.
public enum DistanceMetric: String, Sendable, Codable, CaseIterable {
    /// `1 − cos(a, b)`, computed as `1 − (â·b)·scale(b)`.
    case cosine
    /// Squared Euclidean distance.
    case l2
    /// Negative inner product (`−a·b`), so that larger products rank first.
    case dot

    /// Whether query vectors are normalised to unit length and stored ones carry a scale.
    @inlinable public var normalizesVectors: Bool { self == .cosine }

    /// The distance between two vectors of `count` floats that are unit length for cosine.
    @inlinable
    public func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        distance(a, b, count: count, scale: 1)
    }

    /// The distance between `query` (unit length for cosine) and a stored vector whose scale
    /// (`scale(of:)`) is `scale`; only cosine uses the scale.
    @inlinable
    public func distance(_ query: UnsafePointer<Float>, _ stored: UnsafePointer<Float>, count: Int, scale: Float) -> Float {
        switch self {
        case .cosine: return 1 - VectorKernels.dot(query, stored, count: count) * scale
        case .l2: return VectorKernels.squaredL2(query, stored, count: count)
        case .dot: return -VectorKernels.dot(query, stored, count: count)
        }
    }

    /// What a stored vector is multiplied by to compare it: the inverse of its norm for cosine
    /// (computed in double precision, so large components do not overflow), 1 otherwise. Zero
    /// when the vector has no direction; not a normal float when its norm is out of range.
    @inlinable
    public func scale(of vector: UnsafeBufferPointer<Float>) -> Float {
        guard self == .cosine else { return 1 }
        var sum = 0.0
        for value in vector { sum += Double(value) * Double(value) }
        return sum > 0 ? Float(1 / sum.squareRoot()) : 0
    }
}
