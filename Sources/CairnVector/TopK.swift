import HeapModule

/// One search hit inside a partition: a row position and its distance to the query.
public struct ScoredRow: Sendable, Comparable {
    /// Smaller is closer.
    public var distance: Float
    /// The caller's handle for the row (a slot, or a segment and row packed together).
    public var row: Int

    /// A row and its distance to the query.
    @inlinable public init(distance: Float, row: Int) {
        self.distance = distance
        self.row = row
    }

    @inlinable public static func < (lhs: ScoredRow, rhs: ScoredRow) -> Bool {
        lhs.distance < rhs.distance || (lhs.distance == rhs.distance && lhs.row < rhs.row)
    }
}

/// Keeps the `k` closest rows seen so far. Insertion is O(log k); rows farther than the
/// current k-th are rejected in O(1).
public struct TopK: Sendable {
    @usableFromInline var heap: Heap<ScoredRow>
    /// How many rows are kept.
    public let k: Int

    /// A collector for the `k` closest rows, with room for them reserved up front (a search
    /// fills it, and growing it one doubling at a time cost a query several allocations).
    public init(k: Int) {
        self.k = max(0, k)
        heap = Heap(minimumCapacity: min(self.k, 1024))
    }

    /// The distance a new row must beat to enter, or infinity while fewer than `k` are held.
    @inlinable public var threshold: Float {
        heap.count < k ? .infinity : (heap.max?.distance ?? .infinity)
    }

    /// Offers a row; keeps it if it is among the `k` closest so far.
    @inlinable public mutating func offer(distance: Float, row: Int) {
        guard k > 0 else { return }
        if heap.count < k {
            heap.insert(ScoredRow(distance: distance, row: row))
        } else if distance < heap.max!.distance {
            _ = heap.replaceMax(with: ScoredRow(distance: distance, row: row))
        }
    }

    /// The kept rows, closest first.
    public func sorted() -> [ScoredRow] {
        heap.unordered.sorted()
    }
}
