/// A (distance, node) pair in a search queue.
@usableFromInline
struct Candidate: BitwiseCopyable {
    @usableFromInline var distance: Float
    @usableFromInline var node: UInt32

    @inlinable init(_ distance: Float, _ node: UInt32) {
        self.distance = distance
        self.node = node
    }
}

/// A binary heap of candidates on raw storage: the queues of HNSW search. Copies share the
/// storage; the owner keeps one copy, works on a local one and stores it back (so a grown buffer
/// is not lost), and frees it with `deallocate()`. `isMaxHeap` decides which end is on top.
@usableFromInline
struct CandidateHeap {
    @usableFromInline var base: UnsafeMutablePointer<Candidate>
    @usableFromInline var capacity: Int
    @usableFromInline var count = 0
    @usableFromInline let isMaxHeap: Bool

    @inlinable init(isMaxHeap: Bool, capacity: Int = 256) {
        self.isMaxHeap = isMaxHeap
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    @inlinable var isEmpty: Bool { count == 0 }
    @inlinable var top: Candidate { base[0] }

    @inlinable func deallocate() { base.deallocate() }

    @inlinable func before(_ a: Float, _ b: Float) -> Bool { isMaxHeap ? a > b : a < b }

    @inlinable mutating func push(_ distance: Float, _ node: UInt32) {
        if count == capacity {
            let grown = UnsafeMutablePointer<Candidate>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: base, count: count)
            base.deallocate()
            base = grown
            capacity *= 2
        }
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) >> 1
            guard before(distance, base[parent].distance) else { break }
            base[child] = base[parent]
            child = parent
        }
        base[child] = Candidate(distance, node)
    }

    @inlinable @discardableResult
    mutating func pop() -> Candidate {
        let top = base[0]
        count -= 1
        if count > 0 {
            let last = base[count]
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var best = left
                if left + 1 < count && before(base[left + 1].distance, base[left].distance) { best = left + 1 }
                guard before(base[best].distance, last.distance) else { break }
                base[parent] = base[best]
                parent = best
            }
            base[parent] = last
        }
        return top
    }
}
