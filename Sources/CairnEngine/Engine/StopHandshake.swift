import Foundation

/// How a background thread is stopped and waited for: `stop()` asks and suspends until the
/// thread, on its way out, calls `markStopped()`. Its condition is also its owner's, guarding
/// the owner's own state, so the owner's loop reads `isStopping` under the same lock.
final class StopHandshake: @unchecked Sendable {
    let condition = NSCondition()
    // Guarded by `condition`:
    private var stopping = false
    private var stopped = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Whether a stop was asked for. Read with the condition locked.
    var isStopping: Bool { stopping }

    /// Asks the thread to stop and waits until it has.
    func stop() async {
        await withCheckedContinuation { continuation in
            condition.lock()
            if stopped {
                condition.unlock()
                return continuation.resume()
            }
            stopping = true
            waiters.append(continuation)
            condition.signal()
            condition.unlock()
        }
    }

    /// Called by the thread as it exits, with the condition locked; returns the waiters, which
    /// the caller resumes once it has unlocked.
    func markStopped() -> [CheckedContinuation<Void, Never>] {
        stopped = true
        defer { waiters = [] }
        return waiters
    }
}
