import CairnVector
import Synchronization

/// The live HNSW graph of one memtable, over the memtable's own vectors in place: node `i` is
/// slot `i` (a tombstone's slot is a node that is never linked). Applying a write only queues
/// its slot; the indexer thread (or a flush) links queued slots into the graph, so writers
/// never wait for graph construction. Searches walk the graph for the slots it covers and scan
/// the rest exactly; they run alongside linking (under node locks), never waiting for it.
final class MemtableGraph: Sendable {
    /// Slots applied but not yet linked, in order (`head` is the next to link).
    private struct Queue {
        var slots: [Int] = []
        var head = 0
        var isEmpty: Bool { head == slots.count }
    }

    /// The memtable's vectors, which the graph reads in place.
    private let vectors: MemtableVectors
    private let index: HNSWIndex
    /// Readers: searches and linking; the writer: whatever moves the graph's storage (the
    /// vectors growing, nodes being added).
    private let storage = ReadWriteLock()
    /// Every queued slot below it is linked: searches keep graph hits below it and scan from it.
    private let coveredSlots = Atomic<Int>(0)
    /// Linked nodes (every node is a linked slot or a tombstone's).
    private let linkedCount = Atomic<Int>(0)
    private let queue = Mutex(Queue())
    /// Held while linking, so nodes join the graph in slot order even when a flush and the
    /// indexer thread both link.
    private let linking = Mutex(())

    init(vectors: MemtableVectors, metric: DistanceMetric, parameters: HNSWParameters) {
        self.vectors = vectors
        index = HNSWIndex(dimensions: vectors.dimensions, metric: metric, parameters: parameters, borrowing: vectors.allRows)
    }

    /// Appends the next slot's vector (nil: a tombstone's slot, zeros, never linked) to the
    /// memtable's vectors and queues it (called while applying a write, in slot order). When the
    /// block of vectors has to move, the move waits for the searches and the linking in
    /// progress, and the graph follows it.
    func append(_ vector: UnsafeBufferPointer<Float>?, scale: Float) {
        if vectors.isFull {
            storage.writing {
                vectors.grow()
                index.vectorsMoved(to: vectors.allRows)
            }
        }
        vectors.append(vector, scale: scale)
        if vector != nil {
            let slot = vectors.count - 1
            queue.withLock { $0.slots.append(slot) }
        }
    }

    var hasQueuedVectors: Bool { queue.withLock { !$0.isEmpty } }

    /// The number of vectors waiting to be linked.
    var queuedCount: Int { queue.withLock { $0.slots.count - $0.head } }

    /// Links up to `limit` queued vectors into the graph with `threads` threads. Searches go on
    /// meanwhile (they scan these vectors exactly until the call ends); a write that has to move
    /// the vectors waits for it. Returns whether more are queued.
    func linkQueued(limit: Int, threads: Int = 1) -> Bool {
        linking.withLock { _ in linkBatch(limit: limit, threads: threads) }
        return hasQueuedVectors
    }

    /// `linkQueued`, or nil at once when another thread (a flush) is linking this graph. The
    /// indexer asks this way: waiting on the lock spins a core in the kernel (the lock is a
    /// priority-inheriting futex) that the linking thread needs.
    func linkQueuedUnlessLinking(limit: Int, threads: Int) -> Bool? {
        guard linking.withLockIfAvailable({ _ in linkBatch(limit: limit, threads: threads) }) != nil else { return nil }
        return hasQueuedVectors
    }

    /// Links the next `limit` queued vectors (the caller holds `linking`).
    private func linkBatch(limit: Int, threads: Int) {
        let batch = queue.withLock { queue -> ArraySlice<Int> in
            let end = min(queue.slots.count, queue.head + limit)
            let batch = queue.slots[queue.head..<end]
            queue.head = end
            if queue.head > 4096 && queue.head * 2 > queue.slots.count {
                queue.slots.removeFirst(queue.head)
                queue.head = 0
            }
            return batch
        }
        guard let last = batch.last else { return }
        storage.writing {
            index.addNodes(upTo: last + 1)
            index.reserveLinkLocks()
        }
        storage.reading { index.link(batch, threads: threads, alongsideSearches: true) }
        linkedCount.add(batch.count, ordering: .relaxed)
        coveredSlots.store(last + 1, ordering: .releasing)
    }

    /// Forgets the queued vectors (the memtable was dropped with its partition, or its flush
    /// builds the segment's graph instead).
    func discardQueued() {
        queue.withLock { $0 = Queue() }
    }

    /// Links everything queued with `threads` threads (a flush calls this on a frozen memtable,
    /// which gets no more), a thousand at a time: what a search meanwhile scans exactly.
    func linkAll(threads: Int) {
        while linkQueued(limit: 1024, threads: threads) {}
    }

    /// The number of linked vectors.
    var nodeCount: Int { linkedCount.load(ordering: .relaxed) }

    /// The `k` nearest linked slots to `query` that `isAllowed` accepts, and the first slot the
    /// graph does not cover: the caller scans from there exactly. `allowedBound` as in
    /// `HNSWIndex.search`.
    func search(_ query: UnsafePointer<Float>, k: Int, ef: Int, isAllowed: (Int) -> Bool,
                allowedBound: Double?) -> (hits: [ScoredRow], indexedSlots: Int) {
        storage.reading {
            let covered = coveredSlots.load(ordering: .acquiring)
            let hits = withoutActuallyEscaping(isAllowed) { isAllowed in
                index.search(query, k: k, ef: ef, isAllowed: { Int($0) < covered && isAllowed(Int($0)) },
                             allowedBound: allowedBound, alongsideLinking: true)
            }
            return (hits, covered)
        }
    }

    /// The graph when every one of the memtable's `slots` is a linked node (no tombstone, nothing
    /// queued), so a flush can store it as the segment's instead of building another; else nil.
    func completeIndex(slots: Int) -> HNSWIndex? {
        linking.withLock { _ in
            storage.reading { linkedCount.load(ordering: .relaxed) == slots && index.count == slots ? index : nil }
        }
    }
}
