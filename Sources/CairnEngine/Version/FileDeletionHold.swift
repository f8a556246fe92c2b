import Synchronization

/// Postpones the deletion of files the live manifest no longer needs while someone copies or
/// links the set of files of one moment (a snapshot being created, a storage snapshot window).
/// Deletions requested meanwhile run when the last hold is released.
final class FileDeletionHold: Sendable {
    private struct State {
        var holders = 0
        var postponed: [String] = []
    }

    private let state = Mutex(State())
    private let fs: any FileSystem

    init(fs: any FileSystem) { self.fs = fs }

    /// Whether deletions are being held back now.
    var isHolding: Bool { state.withLock { $0.holders > 0 } }

    /// Starts a hold; pair with `release()`.
    func acquire() {
        state.withLock { $0.holders += 1 }
    }

    /// Ends a hold; the last one deletes what was postponed.
    func release() {
        let due = state.withLock { state -> [String] in
            state.holders -= 1
            guard state.holders == 0 else { return [] }
            defer { state.postponed = [] }
            return state.postponed
        }
        for path in due { try? fs.remove(path) }
    }

    /// Deletes `path` now, or when the holds end.
    func remove(_ path: String) {
        let postponed = state.withLock { state -> Bool in
            guard state.holders > 0 else { return false }
            state.postponed.append(path)
            return true
        }
        if !postponed { try? fs.remove(path) }
    }
}
