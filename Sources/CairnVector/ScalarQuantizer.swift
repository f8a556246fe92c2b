/// How a collection's segments code their vectors for the graph walk (full vectors are always
/// kept, and re-rank the walk's final candidates).
public enum VectorQuantization: String, Sendable, Hashable, Codable, CaseIterable {
    /// One byte per component, with a range per dimension (`ScalarQuantizer`): a quarter of the memory.
    case int8
}

/// 8-bit scalar quantization with a range per dimension: component `d` of a vector is kept as
/// the code `c = round((x − lower[d]) / step[d])` in 0…255, and read back as
/// `lower[d] + step[d]·c`. A code is a quarter of the vector's size, so a graph walk over codes
/// reads a quarter of the memory; the final candidates are re-ranked with the full vectors.
public struct ScalarQuantizer: Sendable, Equatable {
    /// Per dimension, the value code 0 stands for.
    public var lower: [Float]
    /// Per dimension, the value between two codes (never zero).
    public var step: [Float]

    /// The number of components of every vector.
    public var dimensions: Int { lower.count }

    /// A quantizer with the given ranges.
    public init(lower: [Float], step: [Float]) {
        precondition(lower.count == step.count)
        self.lower = lower
        self.step = step
    }

    /// A quantizer whose ranges span each dimension's smallest to largest value (`minimum`,
    /// `maximum`): every training vector is coded without clipping.
    public init(minimum: [Float], maximum: [Float]) {
        precondition(minimum.count == maximum.count)
        lower = minimum
        step = zip(minimum, maximum).map { low, high in
            let step = (high - low) / 255
            return step > 0 && step.isFinite ? step : 1
        }
    }

    /// Writes the code of `vector` (`dimensions` floats) to `code`; values outside the range
    /// are clipped to it.
    public func encode(_ vector: UnsafePointer<Float>, into code: UnsafeMutablePointer<UInt8>) {
        for d in 0..<dimensions {
            let scaled = ((vector[d] - lower[d]) / step[d]).rounded()
            code[d] = UInt8(max(0, min(255, scaled.isNaN ? 0 : scaled)))
        }
    }

    /// The squared length of the vector `code` stands for (L2 walks use it).
    public func decodedSquaredNorm(_ code: UnsafePointer<UInt8>) -> Float {
        var sum: Float = 0
        for d in 0..<dimensions {
            let value = lower[d] + step[d] * Float(code[d])
            sum += value * value
        }
        return sum
    }
}

/// The codes of a graph's vectors, used in place (a mapped segment block) while the owner keeps
/// the memory alive: per node `dimensions` bytes, and for L2 each decoded vector's squared length.
public struct QuantizedVectors: @unchecked Sendable {
    /// Per dimension, the value code 0 stands for.
    public let lower: UnsafePointer<Float>
    /// Per dimension, the value between two codes.
    public let step: UnsafePointer<Float>
    /// Per node, `dimensions` codes.
    public let codes: UnsafePointer<UInt8>
    /// Per node, the squared length of its decoded vector (L2 only; nil otherwise).
    public let squaredNorms: UnsafePointer<Float>?
    /// The number of components of every vector.
    public let dimensions: Int
    /// The number of nodes coded.
    public let count: Int

    /// Codes over borrowed memory.
    public init(lower: UnsafePointer<Float>, step: UnsafePointer<Float>, codes: UnsafePointer<UInt8>,
                squaredNorms: UnsafePointer<Float>?, dimensions: Int, count: Int) {
        self.lower = lower
        self.step = step
        self.codes = codes
        self.squaredNorms = squaredNorms
        self.dimensions = dimensions
        self.count = count
    }

    /// The code of node `node`.
    @inlinable public func code(_ node: Int) -> UnsafePointer<UInt8> { codes + node * dimensions }
}
