/// The memory layout of a built graph, for writing it to a file and using it again straight
/// from a mapping of that file. All counts are in elements.
public struct HNSWLayout {
    /// Per node, a neighbour count and `2M` slots.
    public var layer0: UnsafeBufferPointer<UInt32>
    /// Per node, its top layer.
    public var levels: UnsafeBufferPointer<UInt8>
    /// Per node, where its upper-layer lists start in `upperLinks`.
    public var upperStart: UnsafeBufferPointer<UInt32>
    /// Per (node, layer ≥ 1), a neighbour count and `M` slots.
    public var upperLinks: UnsafeBufferPointer<UInt32>
    /// The node searches start from.
    public var entryPoint: UInt32
    /// The top layer of the graph, or -1 when it is empty.
    public var maxLevel: Int

    /// A layout over buffers that the caller keeps alive as long as the index uses them.
    public init(layer0: UnsafeBufferPointer<UInt32>, levels: UnsafeBufferPointer<UInt8>, upperStart: UnsafeBufferPointer<UInt32>,
                upperLinks: UnsafeBufferPointer<UInt32>, entryPoint: UInt32, maxLevel: Int) {
        self.layer0 = layer0
        self.levels = levels
        self.upperStart = upperStart
        self.upperLinks = upperLinks
        self.entryPoint = entryPoint
        self.maxLevel = maxLevel
    }
}

extension HNSWIndex {
    /// The graph's buffers, valid while the index lives and is not changed.
    public var layout: HNSWLayout {
        HNSWLayout(layer0: UnsafeBufferPointer(start: layer0.base, count: layer0.count),
                   levels: UnsafeBufferPointer(start: levels.base, count: levels.count),
                   upperStart: UnsafeBufferPointer(start: upperStart.base, count: upperStart.count),
                   upperLinks: UnsafeBufferPointer(start: upperLinks.base, count: upperLinks.count),
                   entryPoint: entryPoint, maxLevel: maxLevel)
    }

    /// A read-only graph over memory owned by `owner` (a mapped segment): the vectors, their
    /// scales (nil when the vectors were stored normalised) and the layout are used in place,
    /// nothing is copied or rebuilt. Returns nil when the layout is
    /// inconsistent (wrong sizes, links that point outside the graph), so a corrupt file is
    /// reported instead of crashing a search. The check reads every list; `checked` is handed
    /// each stretch of the neighbour lists once read (a mapped file lets its pages go).
    public convenience init?(dimensions: Int, metric: DistanceMetric, parameters: HNSWParameters,
                             vectors: UnsafePointer<Float>, scales: UnsafePointer<Float>?, count: Int, layout: HNSWLayout,
                             owner: AnyObject, checked: (UnsafeRawBufferPointer) -> Void = { _ in }) {
        let stride0 = 1 + parameters.maxNeighborsLayer0, strideUpper = 1 + parameters.M
        guard layout.layer0.count == count * stride0, layout.levels.count == count, layout.upperStart.count == count,
              (count == 0) == (layout.maxLevel < 0), count == 0 || Int(layout.entryPoint) < count else { return nil }
        for node in 0..<count {
            let level = Int(layout.levels[node])
            guard level <= max(layout.maxLevel, 0),
                  Int(layout.upperStart[node]) + level * strideUpper <= layout.upperLinks.count else { return nil }
        }
        // Layer 0 in stretches of 4 MiB of lists.
        let listsPerStretch = max(1, (4 << 20) / (stride0 * 4))
        for first in Swift.stride(from: 0, to: count, by: listsPerStretch) {
            let nodes = first..<min(count, first + listsPerStretch)
            for list in Swift.stride(from: nodes.lowerBound * stride0, to: nodes.upperBound * stride0, by: stride0) {
                guard layout.layer0[list] <= UInt32(parameters.maxNeighborsLayer0) else { return nil }
                for slot in 0..<Int(layout.layer0[list]) where Int(layout.layer0[list + 1 + slot]) >= count { return nil }
            }
            checked(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(layout.layer0)[nodes.lowerBound * stride0 * 4..<nodes.upperBound * stride0 * 4]))
        }
        for list in Swift.stride(from: 0, to: layout.upperLinks.count - strideUpper + 1, by: strideUpper) {
            guard layout.upperLinks[list] <= UInt32(parameters.M) else { return nil }
            for slot in 0..<Int(layout.upperLinks[list]) where Int(layout.upperLinks[list + 1 + slot]) >= count { return nil }
        }
        checked(UnsafeRawBufferPointer(layout.upperLinks))
        self.init(dimensions: dimensions, metric: metric, parameters: parameters, borrowedVectors: vectors, borrowedScales: scales,
                  count: count, layout: layout, owner: owner)
    }
}
