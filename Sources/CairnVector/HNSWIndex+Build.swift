import CCairnSupport
import Dispatch
import Synchronization

/// The locks of a graph that several threads link nodes into at once: one byte per node, held
/// while its neighbour lists are read or rewritten, and one for the entry point. Owns the bytes;
/// the walks use `handle`, which is not reference counted (a retain per neighbour list read
/// made both threads write the same counter).
@usableFromInline
final class GraphLocks: @unchecked Sendable {
    let handle: NodeLocks

    init(nodes: Int) {
        let bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: nodes + 1)
        bytes.initialize(repeating: 0, count: nodes + 1)
        handle = NodeLocks(bytes: bytes, nodes: nodes)
    }

    /// How many nodes it has locks for.
    var nodes: Int { handle.nodes }

    deinit { handle.bytes.deallocate() }
}

/// The lock bytes of a `GraphLocks`, valid while it lives.
@usableFromInline
struct NodeLocks: @unchecked Sendable {
    @usableFromInline let bytes: UnsafeMutablePointer<UInt8>
    @usableFromInline let nodes: Int

    @inlinable @inline(__always) func lock(_ node: UInt32) { cairn_spin_lock(bytes + Int(node)) }
    @inlinable @inline(__always) func unlock(_ node: UInt32) { cairn_spin_unlock(bytes + Int(node)) }
    @inlinable func lockEntry() { cairn_spin_lock(bytes + nodes) }
    @inlinable func unlockEntry() { cairn_spin_unlock(bytes + nodes) }
}

extension HNSWIndex {
    /// A graph over `rows` vectors of `dimensions` floats (row-major, kept as given), linked by
    /// `threads` threads at once. Levels come from `seed` in row order as with `insert`; with
    /// more than one thread the order nodes are linked in, and so the graph, varies from run to
    /// run, its quality does not. With `borrowing`, the index uses the vectors in place instead
    /// of copying them: the caller keeps them alive and unchanged while the index lives.
    public static func build(vectors: UnsafePointer<Float>, rows: Int, dimensions: Int, metric: DistanceMetric,
                             parameters: HNSWParameters, threads: Int, borrowing: Bool = false, seed: UInt64 = 0x5EED) -> HNSWIndex {
        let index: HNSWIndex
        if borrowing {
            index = HNSWIndex(dimensions: dimensions, metric: metric, parameters: parameters, borrowing: vectors, rows: rows, seed: seed)
            index.addNodes(upTo: rows)
        } else {
            index = HNSWIndex(dimensions: dimensions, metric: metric, parameters: parameters, capacity: max(1, rows), seed: seed)
            for row in 0..<rows { _ = index.appendNode(vectors + row * dimensions) }
        }
        index.link(0..<rows, threads: threads)
        index.linkLocks = nil
        return index
    }

    /// Links the stored nodes `nodes` (none linked yet, in increasing order) into the graph with
    /// `threads` threads at once. Nodes numbered below 64 a thread are linked one after another,
    /// so the walks of the others start from a graph.
    ///
    /// `alongsideSearches`: searches (`search(…, alongsideLinking: true)`) may run meanwhile, so
    /// every list is read and written under its node's lock, even by one thread; the locks
    /// must be in place (`reserveLinkLocks()`, called while nothing else runs).
    public func link<Nodes: RandomAccessCollection<Int> & Sendable>(_ nodes: Nodes, threads: Int,
                                                                   alongsideSearches: Bool = false) where Nodes.Index == Int {
        precondition((nodes.last ?? 0) < max(1, count), "only stored nodes can be linked")
        precondition(!alongsideSearches || (linkLocks?.nodes ?? 0) >= count, "linking alongside searches needs its locks reserved")
        let threads = max(1, threads)
        let serialEnd = threads == 1 ? nodes.endIndex : nodes.firstIndex { $0 >= threads * 64 } ?? nodes.endIndex
        if serialEnd > nodes.startIndex {
            let locks = alongsideSearches ? linkLocks?.handle : nil
            for position in nodes.startIndex..<serialEnd { link(UInt32(nodes[position]), locks: locks) }
        }
        guard serialEnd < nodes.endIndex else { return }
        // The locks outlive the call (all released): a memtable links a few dozen nodes a round,
        // and a fresh set each round cost a pass over a byte per node.
        reserveLinkLocks()
        let handle = linkLocks!.handle
        let next = Atomic<Int>(serialEnd)
        // Threads take up to 16 nodes at a time; fewer when there are few, so that they finish
        // together.
        let batch = max(1, min(16, (nodes.endIndex - serialEnd) / (threads * 16)))
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let start = next.wrappingAdd(batch, ordering: .relaxed).oldValue
                guard start < nodes.endIndex else { return }
                for position in start..<min(nodes.endIndex, start + batch) { link(UInt32(nodes[position]), locks: handle) }
            }
        }
    }

    /// Makes sure there is a lock for every node (more, so that a growing graph seldom replaces
    /// them). Not while nodes are linked or searched alongside linking.
    public func reserveLinkLocks() {
        guard (linkLocks?.nodes ?? -1) < count else { return }
        linkLocks = GraphLocks(nodes: max(count, 2 * (linkLocks?.nodes ?? 0)))
    }
}
