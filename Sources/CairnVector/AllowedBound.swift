/// Where a filtered walk stops: by `share`·`ef` of the closest allowed nodes it has found,
/// a count that may be fractional (see `HNSWIndex.search`).
@usableFromInline
struct AllowedBound {
    /// How many closest allowed nodes the walk keeps to place its threshold: the count rounded up.
    @usableFromInline let count: Int
    /// How far the threshold lies from the (`count` − 1)th closest allowed distance towards the
    /// `count`th, in (0, 1]; 1 when the count is whole.
    @usableFromInline let fraction: Float
    /// The walk does not stop before it has this many allowed nodes.
    @usableFromInline let minimum: Int

    @inlinable init(_ count: Double, minimum: Int) {
        let rounded = max(count.rounded(.up), 1)
        self.count = Int(rounded)
        fraction = self.count == 1 ? 1 : Float(1 - (rounded - count))
        self.minimum = minimum
    }

    /// The stopping distance for the closest allowed nodes in `heap` (a max-heap of at most
    /// `count`): infinity until it holds `count`, then `fraction` of the way from the
    /// second-farthest to the farthest. It only falls as nearer nodes replace farther ones.
    @inlinable @inline(__always)
    static func threshold(of heap: CandidateHeap, count: Int, fraction: Float) -> Float {
        guard heap.count >= count else { return .infinity }
        let farthest = heap.top.distance
        guard fraction < 1, count > 1 else { return farthest }
        let second = count > 2 ? max(heap.base[1].distance, heap.base[2].distance) : heap.base[1].distance
        return second + fraction * (farthest - second)
    }
}
