import Foundation

/// A hierarchical navigable small-world graph over vectors it owns, for approximate nearest
/// neighbour search (Malkov & Yashunin). Nodes are numbered 0, 1, 2… in insertion order.
///
/// Layer 0 keeps up to `2M` neighbours per node in one flat array (a count then the ids), upper
/// layers up to `M`; neighbours are chosen by the diversity heuristic. Searches may run
/// concurrently with each other (each borrows its own scratch space), but not with an insert:
/// the owner serialises inserts against searches, or links with `alongsideSearches` and
/// searches with `alongsideLinking`.
public final class HNSWIndex: @unchecked Sendable {
    /// The number of components of every vector.
    public let dimensions: Int
    /// How vectors are compared.
    public let metric: DistanceMetric
    /// The graph's construction and search settings.
    public let parameters: HNSWParameters

    /// `dimensions` floats per node, as given.
    @usableFromInline var vectors: GrowableBuffer<Float>
    /// Per node, its vector's scale (`DistanceMetric.scale(of:)`) when `isScaled`; empty otherwise.
    @usableFromInline var scales: GrowableBuffer<Float>
    /// Whether distances apply per-node scales: cosine over vectors kept as given. A graph over
    /// vectors that were stored normalised (older segments) has none.
    @usableFromInline let isScaled: Bool
    /// Per node: a count, then `maxNeighborsLayer0` slots.
    @usableFromInline var layer0: GrowableBuffer<UInt32>
    /// Per node: its top layer.
    @usableFromInline var levels: GrowableBuffer<UInt8>
    /// Per node: where its upper-layer lists start in `upperLinks` (each `1 + M` slots per layer).
    @usableFromInline var upperStart: GrowableBuffer<UInt32>
    @usableFromInline var upperLinks: GrowableBuffer<UInt32>
    @usableFromInline var entryPoint: UInt32 = 0
    @usableFromInline var maxLevel = -1
    private var random: UInt64
    /// The node locks of parallel linking (`link(_:threads:)`), kept between calls.
    @usableFromInline var linkLocks: GraphLocks?

    /// Working memory for walks, one per concurrent search.
    @usableFromInline let scratchPool = ScratchPool()

    /// Cache lines of each neighbour's vector prefetched before distances are computed (24: a
    /// whole 384-d vector). With huge pages under the vectors, loading all of a 1.5 KiB vector
    /// ahead measured 5-13% faster on 384-d than its first 8 lines, and the same on 256-d.
    @usableFromInline static let prefetchLines = 24
    /// How many neighbours ahead of the one being compared are being loaded (measured on 128-d:
    /// 2–4 is 5% faster than loading all of a node's neighbours at once, which overflows the
    /// CPU's outstanding-miss buffers).
    @usableFromInline static let prefetchAhead = 4

    /// How many bounded neighbours a screened walk measures its screening on before it may give
    /// it up (`beamSearch`).
    @usableFromInline static let screenTrial = 64

    /// The number of nodes.
    public var count: Int { levels.count }

    @usableFromInline var layer0Stride: Int { 1 + parameters.maxNeighborsLayer0 }
    @usableFromInline var upperStride: Int { 1 + parameters.M }

    /// An empty graph. `seed` makes the layer assignment, and so the graph, repeatable.
    public convenience init(dimensions: Int, metric: DistanceMetric, parameters: HNSWParameters = HNSWParameters(),
                            capacity: Int = 1024, seed: UInt64 = 0x5EED) {
        precondition(parameters.M >= 2 && dimensions >= 1)
        self.init(dimensions: dimensions, metric: metric, parameters: parameters,
                  vectors: GrowableBuffer(capacity: capacity * dimensions), capacity: capacity, seed: seed)
    }

    /// An empty graph whose node `i` will be the vector at `vectors + i × dimensions`, used in
    /// place (`addNodes(upTo:)` makes them nodes): the caller keeps them alive and unchanged
    /// while the index lives, and tells it when they move (`vectorsMoved(to:)`). `rows` is how
    /// many nodes to make room for.
    public convenience init(dimensions: Int, metric: DistanceMetric, parameters: HNSWParameters, borrowing vectors: UnsafePointer<Float>,
                            rows: Int = 0, seed: UInt64 = 0x5EED) {
        self.init(dimensions: dimensions, metric: metric, parameters: parameters,
                  vectors: GrowableBuffer(borrowing: vectors, count: rows * dimensions), capacity: rows, seed: seed)
    }

    /// An empty graph over `vectors` (grown as nodes are inserted, or borrowed whole) with room
    /// for `capacity` nodes' links.
    private init(dimensions: Int, metric: DistanceMetric, parameters: HNSWParameters, vectors: GrowableBuffer<Float>,
                 capacity: Int, seed: UInt64) {
        self.dimensions = dimensions
        self.metric = metric
        self.parameters = parameters
        self.vectors = vectors
        isScaled = metric == .cosine
        scales = GrowableBuffer(capacity: isScaled ? capacity : 1)
        layer0 = GrowableBuffer(capacity: capacity * (1 + parameters.maxNeighborsLayer0))
        levels = GrowableBuffer(capacity: capacity)
        upperStart = GrowableBuffer(capacity: capacity)
        upperLinks = GrowableBuffer(capacity: max(16, capacity / parameters.M * (1 + parameters.M)))
        random = seed
        owner = nil
    }

    /// Keeps borrowed memory (a mapped file) alive.
    private let owner: AnyObject?

    init(dimensions: Int, metric: DistanceMetric, parameters: HNSWParameters, borrowedVectors: UnsafePointer<Float>,
         borrowedScales: UnsafePointer<Float>?, count: Int, layout: HNSWLayout, owner: AnyObject) {
        self.dimensions = dimensions
        self.metric = metric
        self.parameters = parameters
        self.owner = owner
        vectors = GrowableBuffer(borrowing: borrowedVectors, count: count * dimensions)
        isScaled = metric == .cosine && borrowedScales != nil
        scales = borrowedScales.map { GrowableBuffer(borrowing: $0, count: count) } ?? GrowableBuffer(capacity: 1)
        layer0 = GrowableBuffer(borrowing: layout.layer0.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: layout.layer0.count)
        levels = GrowableBuffer(borrowing: layout.levels.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: layout.levels.count)
        upperStart = GrowableBuffer(borrowing: layout.upperStart.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: layout.upperStart.count)
        upperLinks = GrowableBuffer(borrowing: layout.upperLinks.baseAddress ?? UnsafePointer(bitPattern: 4)!, count: layout.upperLinks.count)
        entryPoint = layout.entryPoint
        maxLevel = layout.maxLevel
        random = 0
    }

    /// Points a graph over borrowed vectors at their new place, where their owner moved them
    /// (no walk or link may run meanwhile).
    public func vectorsMoved(to vectors: UnsafePointer<Float>) {
        precondition(self.vectors.isBorrowed, "only borrowed vectors move")
        self.vectors = GrowableBuffer(borrowing: vectors, count: count * dimensions)
    }

    deinit {
        vectors.deallocate()
        scales.deallocate()
        layer0.deallocate()
        levels.deallocate()
        upperStart.deallocate()
        upperLinks.deallocate()
    }

    /// The vector of node `node`.
    @inlinable public func vector(_ node: Int) -> UnsafePointer<Float> {
        UnsafePointer(vectors.base + node * dimensions)
    }

    /// The scale of node `node`'s vector (1 when the graph has none).
    @inlinable public func scale(_ node: Int) -> Float {
        isScaled ? scales.base[node] : 1
    }

    /// The distance between two nodes.
    @inlinable func distance(between first: UInt32, _ second: UInt32) -> Float {
        metric.distance(vectors.base + Int(first) * dimensions, vectors.base + Int(second) * dimensions, count: dimensions,
                        scale: scale(Int(first)) * scale(Int(second)))
    }

    /// The neighbour list of `node` on `level`: a count followed by the slots.
    @inlinable func links(_ node: UInt32, level: Int) -> UnsafeMutablePointer<UInt32> {
        if level == 0 { return layer0.base + Int(node) * layer0Stride }
        return upperLinks.base + Int(upperStart.base[Int(node)]) + (level - 1) * upperStride
    }

    /// A uniform value in [0, 1) from the graph's own seeded generator.
    func nextRandomValue() -> Double {
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
