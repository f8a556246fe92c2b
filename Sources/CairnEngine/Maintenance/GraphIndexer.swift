import Foundation

/// The background thread that links memtable vectors into their live graphs, in small batches,
/// round-robin over the memtables that have queued vectors. Ingest comes first: the thread runs
/// at a lower priority and, while writes keep arriving, links on one thread and rests three
/// times as long as each batch took; when writes pause it links on `threads` threads, so the
/// graph catches up (meanwhile unlinked vectors are scanned exactly, and a flush links what is
/// left itself).
final class GraphIndexer: @unchecked Sendable {
    /// Vectors linked per turn and thread before moving to the next memtable (a search waits
    /// at most for one round of `MemtableGraph.linkQueued`, not for a turn).
    static let batchSize = 32
    /// How much lower than normal the thread's priority is (Linux nice levels; 10 gets about a
    /// tenth of a core that writers also want).
    static let niceness: Int32 = 10
    /// While writes arrived in the last `busyWindow`, the thread works at most this share of
    /// its time (measured: on 2 cores, linking at full speed cost single-put ingest 35–40%).
    static let busyDutyCycle = 0.25
    static let busyWindow = Duration.milliseconds(20)
    /// How long the thread leaves a graph alone that another thread is linking.
    static let busyLinkerPause = Duration.milliseconds(20)

    private var lastWrite = ContinuousClock.now - .seconds(1)
    /// Threads that link while writes pause.
    private let threads: Int

    init(threads: Int) {
        self.threads = max(1, threads)
    }

    private let thread = BackgroundThread(name: "cairn-indexer", niceness: GraphIndexer.niceness)
    private var condition: NSCondition { thread.condition }
    private var stopping: Bool { thread.isStopping }
    // Guarded by `condition`:
    private var waiting: [MemtableGraph] = []
    private var scheduled = Set<ObjectIdentifier>()

    func start() {
        thread.start { [self] in loop() }
    }

    /// Makes sure `graph`'s queued vectors get linked (cheap when it is already scheduled).
    func schedule(_ graph: MemtableGraph) {
        condition.lock()
        lastWrite = ContinuousClock.now
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
            let linkers = ContinuousClock.now - lastWrite < GraphIndexer.busyWindow ? 1 : threads
            condition.unlock()
            let started = ContinuousClock.now
            let linked = graph.linkQueuedUnlessLinking(limit: GraphIndexer.batchSize * linkers, threads: linkers)
            let ended = ContinuousClock.now
            condition.lock()
            if linked == nil {
                // A flush is linking this graph on every core: look again later rather than
                // wait for its lock.
                _ = condition.wait(until: Date().addingTimeInterval(GraphIndexer.busyLinkerPause.milliseconds / 1000))
            } else if ended - lastWrite < GraphIndexer.busyWindow {
                let rest = (ended - started) * ((1 - GraphIndexer.busyDutyCycle) / GraphIndexer.busyDutyCycle)
                _ = condition.wait(until: Date().addingTimeInterval(rest.milliseconds / 1000))
            }
            // Re-checked under the lock: a vector queued after `linkQueued` returned finds the
            // graph either still scheduled here or unscheduled, and schedules it again.
            if linked ?? true || graph.hasQueuedVectors {
                waiting.append(graph)
            } else {
                scheduled.remove(ObjectIdentifier(graph))
            }
            condition.unlock()
        }
    }

    /// Stops the thread after its current batch. Queued vectors stay queued: a memtable that is
    /// flushed links them itself, and a reopened database rebuilds memtables from the WAL.
    func stop() async {
        await thread.stop()
    }
}
