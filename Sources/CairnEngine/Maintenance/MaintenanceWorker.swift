import Foundation

/// The background thread that flushes memtables to segments and compacts segments. Work is
/// requested by flag, so many requests while a flush runs coalesce into one more.
final class MaintenanceWorker: @unchecked Sendable {
    /// What one round of maintenance should do.
    struct Round {
        var flush: Bool
        var compact: Bool
    }

    static let idleInterval: TimeInterval = 10
    private var flushRequested = false
    private var compactRequested = false
    private var waiters: [CheckedContinuation<Void, Error>] = []
    private let thread = BackgroundThread(name: "cairn-maintenance")
    private var condition: NSCondition { thread.condition }
    private var stopping: Bool { thread.isStopping }

    /// Starts the thread; `body` runs each round and may throw (the error goes to waiters).
    func start(_ body: @escaping @Sendable (Round) throws -> Void) {
        thread.start { [self] in loop(body) }
    }

    private func loop(_ body: (Round) throws -> Void) {
        while true {
            condition.lock()
            // Wakes at least every `idleInterval` even without requests, for timed duties
            // (a storage-snapshot window running out); such a round flushes and compacts nothing.
            while !flushRequested && !compactRequested && !stopping {
                if !condition.wait(until: Date().addingTimeInterval(MaintenanceWorker.idleInterval)) { break }
            }
            if stopping && waiters.isEmpty {
                condition.unlock()
                return
            }
            let round = Round(flush: flushRequested, compact: compactRequested || flushRequested)
            flushRequested = false
            compactRequested = false
            let satisfied = waiters
            waiters = []
            condition.unlock()
            var failure: Error?
            do { try body(round) } catch { failure = error }
            for waiter in satisfied {
                if let failure { waiter.resume(throwing: failure) } else { waiter.resume() }
            }
        }
    }

    /// Asks for a flush soon, without waiting.
    func requestFlush() {
        condition.lock()
        flushRequested = true
        condition.signal()
        condition.unlock()
    }

    /// Runs a flush (and compaction if due) and waits for it.
    func run(flush: Bool) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            condition.lock()
            if stopping {
                condition.unlock()
                return continuation.resume(throwing: CairnError.databaseClosed)
            }
            if flush { flushRequested = true } else { compactRequested = true }
            waiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// Finishes the round in progress and stops the thread.
    func stop() async {
        await thread.stop()
    }
}
