/// How closeness between two vectors is measured. Every metric is expressed as a distance:
/// smaller is closer.
public enum DistanceMetric: String, Sendable, Codable, CaseIterable {
    /// `1 − cos(a, b)`. Vectors are normalised when stored, so this is `1 − a·b`.
    case cosine
    /// Squared Euclidean distance.
    case l2
    /// Negative inner product (`−a·b`), so that larger products rank first.
    case dot

    /// Whether stored and query vectors are normalised to unit length first.
    @inlinable public var normalizesVectors: Bool { self == .cosine }

    /// The distance between two vectors of `count` floats.
    @inlinable
    public func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        switch self {
        case .cosine: return 1 - VectorKernels.dot(a, b, count: count)
        case .l2: return VectorKernels.squaredL2(a, b, count: count)
        case .dot: return -VectorKernels.dot(a, b, count: count)
        }
    }
}
