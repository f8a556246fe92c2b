import CCairnSupport
import Foundation

/// The background thread that links memtable vectors into their live graphs, in small batches,
/// round-robin over the memtables that have queued vectors. It runs at a lower priority, so on
/// a busy machine ingest keeps its speed and the graph catches up when the CPU is free
/// (meanwhile the unlinked vectors are scanned exactly).
final class GraphIndexer: @unchecked Sendable {
    /// Vectors linked per turn before moving to the next memtable (a search waits at most for
    /// one insert, not for a turn).
    static let batchSize = 32
    /// How much lower than normal the thread's priority is (Linux nice levels; 10 gets about a
    /// tenth of a core that writers also want).
    static let niceness: Int32 = 10

    private let condition = NSCondition()
    private var waiting: [MemtableGraph] = []
    private var scheduled = Set<ObjectIdentifier>()
    private var stopping = false
    private var started = false
    private let finished = DispatchSemaphore(value: 0)

    func start() {
        condition.lock()
        started = true
        condition.unlock()
        let thread = Thread { [self] in
            cairn_lower_thread_priority(GraphIndexer.niceness)
            loop()
            finished.signal()
        }
        thread.name = "cairn-indexer"
        thread.start()
    }

    /// Makes sure `graph`'s queued vectors get linked (cheap when it is already scheduled).
    func schedule(_ graph: MemtableGraph) {
        condition.lock()
        if scheduled.insert(ObjectIdentifier(graph)).inserted {
            waiting.append(graph)
            condition.signal()
        }
        condition.unlock()
    }

    private func loop() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopping { condition.wait() }
            if stopping {
                condition.unlock()
                return
            }
            let graph = waiting.removeFirst()
            condition.unlock()
            let more = graph.linkQueued(limit: GraphIndexer.batchSize)
            condition.lock()
            // Re-checked under the lock: a vector queued after `linkQueued` returned finds the
            // graph either still scheduled here or unscheduled, and schedules it again.
            if more || graph.hasQueuedVectors {
                waiting.append(graph)
            } else {
                scheduled.remove(ObjectIdentifier(graph))
            }
            condition.unlock()
        }
    }

    /// Stops the thread after its current batch. Queued vectors stay queued: a memtable that is
    /// flushed links them itself, and a reopened database rebuilds memtables from the WAL.
    func stop() {
        condition.lock()
        stopping = true
        let running = started
        condition.signal()
        condition.unlock()
        if running { finished.wait() }
    }
}
