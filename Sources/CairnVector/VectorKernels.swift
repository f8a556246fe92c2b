/// Distance kernels over raw float buffers.
///
/// Four independent SIMD8 accumulators hide the latency of the adds; the body uses a plain
/// multiply and add (`acc += a * b`) because `addProduct` lowers to a per-lane `fmaf` call on
/// baseline x86-64. With `-target-cpu` set to a CPU with AVX2 the same code uses 256-bit lanes.
public enum VectorKernels {
    /// The inner product of two vectors of `count` floats.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var i = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while i + 32 <= count {
            let offset = i &* 4
            acc0 += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            acc1 += rawA.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
            acc2 += rawA.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD8<Float>.self)
            acc3 += rawA.loadUnaligned(fromByteOffset: offset &+ 96, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset &+ 96, as: SIMD8<Float>.self)
            i &+= 32
        }
        while i + 8 <= count {
            let offset = i &* 4
            acc0 += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            i &+= 8
        }
        let total = (acc0 + acc1) + (acc2 + acc3)
        var result = horizontalSum(total)
        while i < count {
            result += a[i] * b[i]
            i &+= 1
        }
        return result
    }

    /// The squared Euclidean distance between two vectors of `count` floats.
    @inlinable
    public static func squaredL2(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>(), acc2 = SIMD8<Float>(), acc3 = SIMD8<Float>()
        var i = 0
        let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
        while i + 32 <= count {
            let offset = i &* 4
            let d0 = rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                - rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            let d1 = rawA.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
                - rawB.loadUnaligned(fromByteOffset: offset &+ 32, as: SIMD8<Float>.self)
            let d2 = rawA.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD8<Float>.self)
                - rawB.loadUnaligned(fromByteOffset: offset &+ 64, as: SIMD8<Float>.self)
            let d3 = rawA.loadUnaligned(fromByteOffset: offset &+ 96, as: SIMD8<Float>.self)
                - rawB.loadUnaligned(fromByteOffset: offset &+ 96, as: SIMD8<Float>.self)
            acc0 += d0 * d0
            acc1 += d1 * d1
            acc2 += d2 * d2
            acc3 += d3 * d3
            i &+= 32
        }
        while i + 8 <= count {
            let offset = i &* 4
            let d = rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                - rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            acc0 += d * d
            i &+= 8
        }
        let total = (acc0 + acc1) + (acc2 + acc3)
        var result = horizontalSum(total)
        while i < count {
            let d = a[i] - b[i]
            result += d * d
            i &+= 1
        }
        return result
    }

    /// Scales `vector` in place to unit length. Returns false (and leaves it unchanged) when its
    /// norm is zero or not finite.
    @inlinable
    public static func normalize(_ vector: UnsafeMutableBufferPointer<Float>) -> Bool {
        guard let base = vector.baseAddress else { return false }
        let norm = dot(base, base, count: vector.count).squareRoot()
        guard norm > 0, norm.isFinite else { return false }
        let inverse = 1 / norm
        for i in vector.indices { vector[i] *= inverse }
        return true
    }

    /// Whether every component is finite: `x·0` is 0 for a finite `x` and NaN otherwise, so
    /// the sum of those products is 0 exactly when all are (one vector pass, no branch per component).
    public static func allFinite(_ vector: UnsafeBufferPointer<Float>) -> Bool {
        guard let base = vector.baseAddress else { return true }
        let raw = UnsafeRawPointer(base), count = vector.count
        var acc = SIMD16<Float>(), i = 0
        while i + 16 <= count {
            acc += raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD16<Float>.self) * 0
            i &+= 16
        }
        var rest: Float = 0
        while i < count {
            rest += base[i] * 0
            i &+= 1
        }
        return acc.sum() + rest == 0
    }

    @inlinable @inline(__always)
    static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let half = v.lowHalf + v.highHalf
        let quarter = half.lowHalf + half.highHalf
        return quarter.x + quarter.y
    }
}
