import CairnEngine

/// Runs blocking `work` (a child process, a wait) on a thread of its own and returns its
/// result: the concurrency pool stays free, to serve a control socket this process holds, or to
/// let other tests run.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await runBlocking(work)
}
