import CCairnSupport
import Dispatch

/// One bit per component of each vector (the sign of its offset from the data's mean) and three
/// numbers that turn a query's sum over those bits into a lower bound on the exact distance,
/// after RaBitQ (Gao & Long, SIGMOD 2024). A 384-d sketch is one 64-byte cache line against the
/// vector's 1,536 bytes, so the sketches stay in the CPU's caches where the vectors do not: a walk
/// bounds each neighbour from its sketch and reads the full vector only of those that may still
/// enter its results. On 384-d and 256-d text embeddings about 70% of the vectors a walk would
/// read are skipped.
///
/// For a row with offset `x − c = r·o` (`‖o‖ = 1`) and bits `b = sign(o)`, `ō = b/√D` estimates
/// `o`; for the query's offset `q' = q − c`, `⟨o, q'⟩ ≈ ⟨ō, q'⟩/⟨ō, o⟩`, off by at most about
/// `ε·√(1 − ⟨ō,o⟩²)/(⟨ō,o⟩·√(D − 1))·‖q'‖` with high probability (`confidence` is ε). So
/// `‖x − q‖² ≥ r² + ‖q'‖² − k·⟨b, q'⟩ − g·‖q'‖`, where each row keeps `r²`,
/// `k = 2r/(⟨ō,o⟩√D)` and `g = 2rε·√(1 − ⟨ō,o⟩²)/(⟨ō,o⟩√(D − 1))`. Cosine compares unit
/// vectors, whose distance is half the squared L2 one.
///
/// A bound that fails (rarely) only skips a node that might have entered the results: distances
/// returned are always exact.
public struct SignSketches: @unchecked Sendable {
    /// The mean of the rows as compared (unit length for cosine), zero-padded to `paddedDimensions`.
    public let center: UnsafePointer<Float>
    /// Per row `stride` bytes: the bits (component `d` is bit `d % 8` of byte `d / 8`), then `r²`,
    /// `k` and `g` as floats.
    public let records: UnsafeRawPointer
    /// The number of components of every vector.
    public let dimensions: Int
    /// The number of rows sketched.
    public let count: Int
    /// The bytes of one row's record.
    public let stride: Int

    /// Sketches over borrowed memory (`center`: `paddedDimensions` floats; `records`: `count` records).
    public init(center: UnsafePointer<Float>, records: UnsafeRawPointer, dimensions: Int, count: Int) {
        self.center = center
        self.records = records
        self.dimensions = dimensions
        self.count = count
        stride = Self.stride(dimensions: dimensions)
    }

    /// How much a bound is widened, in units of the estimate's typical error (ε above).
    public static let confidence: Float = 1.9

    /// The components rounded up to whole 32-bit words of bits.
    @inlinable public var paddedDimensions: Int { Self.paddedDimensions(dimensions) }

    @inlinable public static func paddedDimensions(_ dimensions: Int) -> Int { (dimensions + 31) / 32 * 32 }

    /// The bytes of a record: the bits and three floats, rounded up to a power of two up to 64
    /// bytes and to whole cache lines beyond, so no record straddles more lines than it must.
    public static func stride(dimensions: Int) -> Int {
        let bytes = paddedDimensions(dimensions) / 8 + 12
        if bytes > 64 { return (bytes + 63) / 64 * 64 }
        var size = 16
        while size < bytes { size *= 2 }
        return size
    }

    /// Below this share of a walk's reads ruled out (`HNSWIndex.sketchScreeningShare`), sketches
    /// cost a walk more than they save: a graph over such data is better walked without.
    public static let minimumScreeningShare = 0.3

    /// Whether a metric's distances can be bounded from sketches (cosine and L2; not the inner product).
    public static func supports(_ metric: DistanceMetric) -> Bool { metric != .dot }

    /// Writes the mean of `rows` vectors, each multiplied by `scale(row)` (its inverse norm for
    /// cosine, 1 otherwise), to `center` (`paddedDimensions` floats).
    public static func center(of vectors: UnsafePointer<Float>, rows: Int, dimensions: Int, scale: (Int) -> Float,
                              into center: UnsafeMutablePointer<Float>) {
        var sum = [Double](repeating: 0, count: dimensions)
        for row in 0..<rows {
            let factor = Double(scale(row)), vector = vectors + row * dimensions
            for d in 0..<dimensions { sum[d] += Double(vector[d]) * factor }
        }
        for d in 0..<paddedDimensions(dimensions) { center[d] = d < dimensions && rows > 0 ? Float(sum[d] / Double(rows)) : 0 }
    }

    /// Writes the record of `vector` (multiplied by `scale`) against `center` to `record`
    /// (`stride(dimensions:)` bytes).
    public static func encode(_ vector: UnsafePointer<Float>, scale: Float, center: UnsafePointer<Float>, dimensions: Int,
                              into record: UnsafeMutableRawPointer) {
        record.initializeMemory(as: UInt8.self, repeating: 0, count: stride(dimensions: dimensions))
        let bits = record.assumingMemoryBound(to: UInt8.self)
        var squared: Float = 0, absolute: Float = 0
        for d in 0..<dimensions {
            let offset = vector[d] * scale - center[d]
            squared += offset * offset
            absolute += abs(offset)
            if offset > 0 { bits[d / 8] |= 1 << UInt8(d % 8) }
        }
        let r = squared.squareRoot(), root = Float(dimensions).squareRoot(), rootLess = Float(max(1, dimensions - 1)).squareRoot()
        // ⟨ō, o⟩ = Σ|o_d|/√D; at r = 0 the bound is exact with k = g = 0.
        let agreement = r > 0 ? absolute / (r * root) : 1
        let k = r > 0 ? 2 * r / (agreement * root) : 0
        let g = r > 0 ? 2 * r * confidence * max(0, 1 - agreement * agreement).squareRoot() / (agreement * rootLess) : 0
        let numbers = record + paddedDimensions(dimensions) / 8
        numbers.storeBytes(of: squared, toByteOffset: 0, as: Float.self)
        numbers.storeBytes(of: k, toByteOffset: 4, as: Float.self)
        numbers.storeBytes(of: g, toByteOffset: 8, as: Float.self)
    }
}

extension SignSketches {
    /// Calls `body` with `query`'s lower bounds on its distances to these rows (`query` unit
    /// length for cosine; `metric` cosine or L2), the bounds' table on the stack.
    @inlinable
    public func withBounds<Result>(for query: UnsafePointer<Float>, metric: DistanceMetric, _ body: (SketchBound) throws -> Result) rethrows -> Result {
        try withUnsafeTemporaryAllocation(of: Float.self, capacity: SketchBound.tableCount(self)) { table in
            try body(SketchBound(query, sketches: self, metric: metric, table: table.baseAddress!))
        }
    }
}

/// A query's side of `SignSketches`: per group of 4 components, the 16 sums `Σ ±q'_d` (`+` where
/// the bit is set), so `⟨b, q'⟩` takes one table lookup per 4 bits (plain loads and adds: the
/// masked SIMD forms measured 4× slower, as the compiler lowers them lane by lane).
public struct SketchBound {
    @usableFromInline let table: UnsafePointer<Float>
    @usableFromInline let records: UnsafeRawPointer
    @usableFromInline let stride: Int
    @usableFromInline let bitBytes: Int
    /// `‖q'‖²` and `‖q'‖`.
    @usableFromInline let offsetSquared: Float
    @usableFromInline let offsetLength: Float
    /// ½ for cosine (unit vectors), 1 for L2.
    @usableFromInline let distanceFactor: Float

    /// The floats `table` holds: 16 per 4 components.
    @inlinable static func tableCount(_ sketches: SignSketches) -> Int { sketches.paddedDimensions * 4 }

    /// Fills `table` (`tableCount` floats the caller owns for the walk) for `query` (unit length for cosine).
    @inlinable init(_ query: UnsafePointer<Float>, sketches: SignSketches, metric: DistanceMetric, table: UnsafeMutablePointer<Float>) {
        var squared: Float = 0
        for group in 0..<(sketches.paddedDimensions / 4) {
            // Pattern 0 subtracts all four; each set bit turns one subtraction into an addition,
            // so a pattern is the one without its highest bit plus twice that component.
            let entries = table + group * 16
            entries[0] = 0
            for i in 0..<4 {
                let d = group * 4 + i
                let offset = d < sketches.dimensions ? query[d] - sketches.center[d] : 0
                squared += offset * offset
                entries[0] -= offset
                for pattern in (1 << i)..<(2 << i) { entries[pattern] = 2 * offset }
            }
            for pattern in 1..<16 {
                let highest = 1 << (Int.bitWidth - 1 - pattern.leadingZeroBitCount)
                entries[pattern] += entries[pattern - highest]
            }
        }
        self.table = UnsafePointer(table)
        records = sketches.records
        stride = sketches.stride
        bitBytes = sketches.paddedDimensions / 8
        offsetSquared = squared
        offsetLength = squared.squareRoot()
        distanceFactor = metric == .cosine ? 0.5 : 1
    }

    /// A lower bound on the distance from the query to `node` (with high probability).
    @inlinable @inline(__always) public func lowerBound(_ node: UInt32) -> Float {
        let record = records + Int(node) &* stride
        var a0: Float = 0, a1: Float = 0, a2: Float = 0, a3: Float = 0
        var entries = table, byte = 0
        while byte < bitBytes {
            let word = record.loadUnaligned(fromByteOffset: byte, as: UInt32.self)
            a0 += entries[Int(word & 15)] + entries[16 + Int((word >> 4) & 15)]
            a1 += entries[32 + Int((word >> 8) & 15)] + entries[48 + Int((word >> 12) & 15)]
            a2 += entries[64 + Int((word >> 16) & 15)] + entries[80 + Int((word >> 20) & 15)]
            a3 += entries[96 + Int((word >> 24) & 15)] + entries[112 + Int(word >> 28)]
            entries += 128
            byte &+= 4
        }
        let product = (a0 + a1) + (a2 + a3)
        let numbers = record + bitBytes
        let squared = numbers.loadUnaligned(fromByteOffset: 0, as: Float.self)
        let k = numbers.loadUnaligned(fromByteOffset: 4, as: Float.self)
        let g = numbers.loadUnaligned(fromByteOffset: 8, as: Float.self)
        return (squared + offsetSquared - k * product - g * offsetLength) * distanceFactor
    }

    /// Starts loading `node`'s record.
    @inlinable @inline(__always) public func prefetch(_ node: UInt32) {
        let record = records + Int(node) &* stride
        cairn_prefetch(record)
        if stride > 64 { cairn_prefetch(record + 64) }
    }
}

extension HNSWIndex {
    /// Sketches every node, in node order, against the mean of the vectors as compared: writes
    /// the mean to `center` (`SignSketches.paddedDimensions` floats) and the records to `records`
    /// (`count` × `SignSketches.stride` bytes), encoding on `threads` threads. Whether they pay
    /// for a walk is `sketchScreeningShare`'s to say.
    public func encodeSketches(center: UnsafeMutablePointer<Float>, records: UnsafeMutableRawPointer, threads: Int = 1) {
        SignSketches.center(of: vector(0), rows: count, dimensions: dimensions, scale: scale, into: center)
        let stride = SignSketches.stride(dimensions: dimensions), dimensions = dimensions, count = count
        let slices = max(1, min(threads, count / 1024)), sliceRows = (count + slices - 1) / slices
        nonisolated(unsafe) let records = records, center = UnsafePointer(center)
        DispatchQueue.concurrentPerform(iterations: slices) { slice in
            for node in slice * sliceRows..<min(count, (slice + 1) * sliceRows) {
                SignSketches.encode(vector(node), scale: scale(node), center: center, dimensions: dimensions, into: records + node * stride)
            }
        }
    }

    /// The share of the nodes a walk would measure but `sketches` (this graph's, in node order)
    /// rule out, estimated from up to `samples` nodes taken as queries: for each, the nodes two
    /// links away on layer 0 farther than the `rank`th closest of them, and how many of those
    /// their lower bound already places beyond it. Data whose clusters are tight around points
    /// far from the mean get little from sketches (clustered synthetic data: about 1%; text
    /// embeddings: 70%); below `SignSketches.minimumScreeningShare` a graph is better walked without.
    public func sketchScreeningShare(_ sketches: SignSketches, samples: Int = 200, rank: Int = 24) -> Double {
        guard count > 0, sketches.count == count, SignSketches.supports(metric) else { return 0 }
        let query = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
        let table = UnsafeMutablePointer<Float>.allocate(capacity: SketchBound.tableCount(sketches))
        defer {
            query.deallocate()
            table.deallocate()
        }
        var farther = 0, ruledOut = 0
        var reached: [UInt32] = [], distances: [Float] = []
        for sample in Swift.stride(from: 0, to: count, by: max(1, count / samples)) {
            for d in 0..<dimensions { query[d] = vector(sample)[d] * scale(sample) }
            reached.removeAll(keepingCapacity: true)
            let list = links(UInt32(sample), level: 0)
            for slot in 0..<Int(list[0]) {
                let second = links(list[1 + slot], level: 0)
                for next in 0..<Int(second[0]) where Int(second[1 + next]) != sample { reached.append(second[1 + next]) }
            }
            reached.sort()
            var unique = 0
            for index in reached.indices where unique == 0 || reached[unique - 1] != reached[index] {
                reached[unique] = reached[index]
                unique += 1
            }
            reached.removeLast(reached.count - unique)
            guard reached.count > rank else { continue }
            let bound = SketchBound(UnsafePointer(query), sketches: sketches, metric: metric, table: table)
            let exact = ExactDistance(UnsafePointer(query), in: self)
            distances = reached.map { exact.distance(to: $0) }
            let threshold = distances.sorted()[rank - 1]
            for (node, distance) in zip(reached, distances) where distance > threshold {
                farther += 1
                if bound.lowerBound(node) >= threshold { ruledOut += 1 }
            }
        }
        return farther == 0 ? 0 : Double(ruledOut) / Double(farther)
    }
}
