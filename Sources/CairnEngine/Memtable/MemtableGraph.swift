import CairnVector
import Synchronization

/// The live HNSW graph of one memtable. Applying a write only queues its vector; the indexer
/// thread links queued vectors into the graph a few at a time, so writers never wait for graph
/// construction. Searches walk the graph for the slots it holds and scan the rest exactly.
final class MemtableGraph: Sendable {
    /// The graph and which memtable slot each node is.
    private struct Linked: @unchecked Sendable {
        let index: HNSWIndex
        var nodeSlots: [Int32] = []
        /// Every non-tombstone slot below this is a node of the graph.
        var indexedSlots = 0
    }

    /// Slots applied but not yet linked, in order (`head` is the next to link).
    private struct Queue {
        var slots: [Int] = []
        var head = 0
        var isEmpty: Bool { head == slots.count }
    }

    /// The memtable's vectors, which queued slots are read from.
    private let vectors: MemtableVectors
    private let linked: Mutex<Linked>
    private let queue = Mutex(Queue())
    /// Held while linking, so nodes join the graph in slot order even when a flush and the
    /// indexer thread both link.
    private let linking = Mutex(())

    init(vectors: MemtableVectors, metric: DistanceMetric, parameters: HNSWParameters) {
        self.vectors = vectors
        linked = Mutex(Linked(index: HNSWIndex(dimensions: vectors.dimensions, metric: metric, parameters: parameters)))
    }

    /// Queues `slot`, whose vector is already in the memtable's vectors (called while applying
    /// a write, in slot order).
    func enqueue(slot: Int) {
        queue.withLock { $0.slots.append(slot) }
    }

    var hasQueuedVectors: Bool { queue.withLock { !$0.isEmpty } }

    /// The number of vectors waiting to be linked.
    var queuedCount: Int { queue.withLock { $0.slots.count - $0.head } }

    /// Links up to `limit` queued vectors into the graph. Returns whether more are queued.
    func linkQueued(limit: Int) -> Bool {
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
            let vector = UnsafeMutablePointer<Float>.allocate(capacity: vectors.dimensions)
            defer { vector.deallocate() }
            for slot in batch {
                vectors.copy(slot: slot, into: vector)
                linked.withLock { linked in
                    linked.index.insert(vector)
                    linked.nodeSlots.append(Int32(slot))
                    linked.indexedSlots = slot + 1
                }
            }
        }
        return hasQueuedVectors
    }

    /// Forgets the queued vectors (the memtable was dropped with its partition, or its flush
    /// builds the segment's graph on every core instead).
    func discardQueued() {
        queue.withLock { $0 = Queue() }
    }

    /// Links everything queued (a flush calls this on a frozen memtable, which gets no more).
    func linkAll() {
        while linkQueued(limit: 1024) {}
    }

    /// The number of nodes in the graph.
    var nodeCount: Int { linked.withLock { $0.nodeSlots.count } }

    /// The `k` nearest linked slots to `query` that `isAllowed` accepts (rows are slots), and the
    /// first slot the graph does not cover: the caller scans from there exactly. `allowedBound`
    /// as in `HNSWIndex.search`.
    func search(_ query: UnsafePointer<Float>, k: Int, ef: Int, isAllowed: (Int) -> Bool,
                allowedBound: Int?) -> (hits: [ScoredRow], indexedSlots: Int) {
        linked.withLock { linked in
            let hits = linked.nodeSlots.withUnsafeBufferPointer { slots in
                withoutActuallyEscaping(isAllowed) { isAllowed in
                    linked.index.search(query, k: k, ef: ef, isAllowed: { isAllowed(Int(slots[Int($0)])) },
                                        allowedBound: allowedBound)
                }
            }
            return (hits.map { ScoredRow(distance: $0.distance, row: Int(linked.nodeSlots[$0.row])) }, linked.indexedSlots)
        }
    }

    /// The graph itself when its nodes are exactly `slots` in order (what a flush writes as the
    /// segment's rows), so the segment can store it instead of building another; nil otherwise.
    func index(ifNodesAre slots: [Int32]) -> HNSWIndex? {
        linked.withLock { $0.nodeSlots == slots ? $0.index : nil }
    }
}
