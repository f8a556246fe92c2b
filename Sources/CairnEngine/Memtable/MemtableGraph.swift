import CairnVector
import Synchronization

/// The live HNSW graph of one memtable, over the memtable's own vectors in place: node `i` is
/// slot `i` (a tombstone's slot is a node that is never linked). Applying a write only queues
/// its slot; the indexer thread links queued slots into the graph a few at a time, so writers
/// never wait for graph construction. Searches walk the graph for the slots it holds and scan
/// the rest exactly.
final class MemtableGraph: Sendable {
    /// The graph and how many of its nodes are linked.
    private struct Linked: @unchecked Sendable {
        let index: HNSWIndex
        /// Nodes linked (every node is a linked slot or a tombstone's).
        var linkedCount = 0
    }

    /// Slots applied but not yet linked, in order (`head` is the next to link).
    private struct Queue {
        var slots: [Int] = []
        var head = 0
        var isEmpty: Bool { head == slots.count }
    }

    /// The memtable's vectors, which the graph reads in place.
    private let vectors: MemtableVectors
    private let linked: Mutex<Linked>
    private let queue = Mutex(Queue())
    /// Held while linking, so nodes join the graph in slot order even when a flush and the
    /// indexer thread both link.
    private let linking = Mutex(())

    init(vectors: MemtableVectors, metric: DistanceMetric, parameters: HNSWParameters) {
        self.vectors = vectors
        linked = Mutex(Linked(index: HNSWIndex(dimensions: vectors.dimensions, metric: metric, parameters: parameters,
                                               borrowing: vectors.allRows)))
    }

    /// Appends the next slot's vector (nil: a tombstone's slot, zeros, never linked) to the
    /// memtable's vectors and queues it (called while applying a write, in slot order). When the
    /// block of vectors has to move, the move waits for the linking in progress and the graph
    /// follows it.
    func append(_ vector: UnsafeBufferPointer<Float>?, scale: Float) {
        if vectors.isFull {
            linked.withLock { linked in
                vectors.grow()
                linked.index.vectorsMoved(to: vectors.allRows)
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

    /// Links up to `limit` queued vectors into the graph with `threads` threads, a few at a
    /// time (a search of the memtable waits for one round: one insert, or 16 a thread). Returns
    /// whether more are queued.
    func linkQueued(limit: Int, threads: Int = 1) -> Bool {
        linking.withLock { _ in
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
            let round = threads > 1 ? threads * 16 : 1
            for start in stride(from: batch.startIndex, to: batch.endIndex, by: round) {
                let nodes = batch[start..<min(batch.endIndex, start + round)]
                linked.withLock { linked in
                    linked.index.addNodes(upTo: nodes.last! + 1)
                    linked.index.link(nodes, threads: threads)
                    linked.linkedCount += nodes.count
                }
            }
        }
        return hasQueuedVectors
    }

    /// Forgets the queued vectors (the memtable was dropped with its partition, or its flush
    /// builds the segment's graph instead).
    func discardQueued() {
        queue.withLock { $0 = Queue() }
    }

    /// Links everything queued with `threads` threads (a flush calls this on a frozen memtable,
    /// which gets no more).
    func linkAll(threads: Int) {
        while linkQueued(limit: 4096, threads: threads) {}
    }

    /// The number of linked vectors.
    var nodeCount: Int { linked.withLock { $0.linkedCount } }

    /// The `k` nearest linked slots to `query` that `isAllowed` accepts, and the first slot the
    /// graph does not cover: the caller scans from there exactly. `allowedBound` as in
    /// `HNSWIndex.search`.
    func search(_ query: UnsafePointer<Float>, k: Int, ef: Int, isAllowed: (Int) -> Bool,
                allowedBound: Double?) -> (hits: [ScoredRow], indexedSlots: Int) {
        linked.withLock { linked in
            let hits = withoutActuallyEscaping(isAllowed) { isAllowed in
                linked.index.search(query, k: k, ef: ef, isAllowed: { isAllowed(Int($0)) }, allowedBound: allowedBound)
            }
            return (hits, linked.index.count)
        }
    }

    /// The graph when every one of the memtable's `slots` is a linked node (no tombstone, nothing
    /// queued), so a flush can store it as the segment's instead of building another; else nil.
    func completeIndex(slots: Int) -> HNSWIndex? {
        linked.withLock { $0.linkedCount == slots && $0.index.count == slots ? $0.index : nil }
    }
}
