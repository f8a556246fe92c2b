import Dispatch
import Foundation

/// Ctrl-C for long commands: instead of dying mid-write, the work is cancelled, finishes the
/// step in flight and reports what it did.
enum Interruption {
    /// Runs `work` in a task that SIGINT cancels; a second SIGINT ends the process at once.
    static func cancellingOnSIGINT<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await work() }
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let interrupts = Counter()
        source.setEventHandler {
            if interrupts.increment() > 1 { Foundation.exit(130) }
            Output.note("\ninterrupted: finishing the batch being written (Ctrl-C again to stop at once)\n")
            task.cancel()
        }
        source.resume()
        defer {
            source.cancel()
            signal(SIGINT, SIG_DFL)
        }
        return try await task.value
    }

    private final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func increment() -> Int { lock.withLock { value += 1; return value } }
    }
}
