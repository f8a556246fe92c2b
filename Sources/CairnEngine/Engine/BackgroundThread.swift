import CCairnSupport
import Foundation

/// A named background thread that runs one loop, and the way to stop it: `stop()` asks and
/// suspends until the loop has returned. Its condition is also its owner's, guarding the
/// owner's own state, so the owner's loop reads `isStopping` under the same lock. The commit
/// pipeline, the maintenance worker and the graph indexer each run on one.
final class BackgroundThread: @unchecked Sendable {
    let condition = NSCondition()
    private let name: String
    /// How much lower than normal the thread's priority is (Linux nice levels; 0: normal).
    private let niceness: Int32
    // Guarded by `condition`:
    private var running = false
    private var stopping = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(name: String, niceness: Int32 = 0) {
        self.name = name
        self.niceness = niceness
    }

    /// Whether a stop was asked for. Read with the condition locked.
    var isStopping: Bool { stopping }

    /// Starts the thread running `loop`, which returns once it sees `isStopping`.
    func start(_ loop: @escaping @Sendable () -> Void) {
        condition.lock()
        running = true
        condition.unlock()
        let thread = Thread { [self] in
            if niceness != 0 { cairn_lower_thread_priority(niceness) }
            loop()
            condition.lock()
            running = false
            let waiting = waiters
            waiters = []
            condition.unlock()
            for waiter in waiting { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Asks the loop to stop and waits until it has returned (at once if it never started).
    func stop() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            stopping = true
            condition.broadcast()
            guard running else {
                condition.unlock()
                return continuation.resume()
            }
            waiters.append(continuation)
            condition.unlock()
        }
    }
}
