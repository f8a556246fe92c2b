import Synchronization

/// The working memory of one graph walk: visited tags and the two queues. Each search or insert
/// borrows one from its index's pool, so concurrent searches never share scratch space.
@usableFromInline
final class SearchScratch: @unchecked Sendable {
    /// Per node: the generation that last visited it. 16-bit tags keep the array small enough
    /// to stay in cache longer (cleared every 65,535 walks).
    @usableFromInline var visited: GrowableBuffer<UInt16>
    @usableFromInline var generation: UInt16 = 0
    @usableFromInline var candidates = CandidateHeap(isMaxHeap: false)
    @usableFromInline var results = CandidateHeap(isMaxHeap: true)
    /// The closest allowed nodes a filtered walk stops by, when fewer than `results`.
    @usableFromInline var bound = CandidateHeap(isMaxHeap: true)
    /// The nodes a quantized walk re-ranks, with their approximate distances.
    @usableFromInline var rerank = GrowableBuffer<Candidate>(capacity: 64)

    @usableFromInline init(nodes: Int) {
        visited = GrowableBuffer(capacity: max(1, nodes))
        visited.append(repeating: 0, count: nodes)
    }

    deinit {
        visited.deallocate()
        candidates.deallocate()
        results.deallocate()
        bound.deallocate()
        rerank.deallocate()
    }

    /// Empties `results` into the re-rank list, closest first.
    @inlinable func takeResultsClosestFirst() -> UnsafeMutableBufferPointer<Candidate> {
        let count = results.count
        if rerank.count < count { rerank.append(repeating: Candidate(0, 0), count: count - rerank.count) }
        // The results are a max-heap: each pop is the farthest left.
        for index in stride(from: count - 1, through: 0, by: -1) { rerank.base[index] = results.pop() }
        return UnsafeMutableBufferPointer(start: rerank.base, count: count)
    }

    /// Starts a new visited set over `nodes` nodes: O(1) by bumping the generation, except when
    /// the graph grew or the tags wrap.
    @inlinable func beginWalk(nodes: Int) {
        if visited.count < nodes { visited.append(repeating: 0, count: nodes - visited.count) }
        if generation == UInt16.max {
            visited.base.update(repeating: 0, count: visited.count)
            generation = 0
        }
        generation &+= 1
    }
}

/// Scratch spaces kept for reuse: one is taken per walk and given back after it.
@usableFromInline
final class ScratchPool: Sendable {
    private let idle = Mutex<[SearchScratch]>([])

    @usableFromInline init() {}

    /// Runs `body` with a scratch space of its own.
    @inlinable func withScratch<Result>(nodes: Int, _ body: (SearchScratch) throws -> Result) rethrows -> Result {
        let scratch = take() ?? SearchScratch(nodes: nodes)
        defer { give(scratch) }
        scratch.beginWalk(nodes: nodes)
        return try body(scratch)
    }

    @usableFromInline func take() -> SearchScratch? {
        idle.withLock { $0.popLast() }
    }

    @usableFromInline func give(_ scratch: SearchScratch) {
        idle.withLock { if $0.count < 8 { $0.append(scratch) } }
    }
}
