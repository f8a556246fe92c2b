import Synchronization

/// How far a long repository operation (backup, restore, check, copy) has come: files (or
/// packs) and bytes done out of the total, for a progress bar.
public struct TransferProgress: Sendable, Hashable, Codable {
    public var files = 0
    public var totalFiles = 0
    public var bytes = 0
    public var totalBytes = 0
}

/// Called as a long operation advances (from the task running it).
public typealias ProgressHandler = @Sendable (TransferProgress) -> Void

/// Counts progress and reports each step to a handler.
final class ProgressCounter: Sendable {
    private let state: Mutex<TransferProgress>
    private let handler: ProgressHandler?

    init(totalFiles: Int, totalBytes: Int, handler: ProgressHandler?) {
        state = Mutex(TransferProgress(totalFiles: totalFiles, totalBytes: totalBytes))
        self.handler = handler
    }

    /// A counter that reports to nobody.
    static var silent: ProgressCounter { ProgressCounter(totalFiles: 0, totalBytes: 0, handler: nil) }

    /// Notes `bytes` more done, and a file finished when `fileDone`.
    func advance(bytes: Int, fileDone: Bool = false) {
        let now = state.withLock { progress in
            progress.bytes += bytes
            if fileDone { progress.files += 1 }
            return progress
        }
        handler?(now)
    }
}
