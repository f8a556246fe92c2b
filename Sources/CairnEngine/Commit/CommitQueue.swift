import Foundation

/// The front of the write path. A writer validates its mutation against the newest catalog,
/// takes the next LSN and appends its framed record to a shared buffer, all under one lock; the
/// commit pipeline thread then writes the buffer, syncs it once for every writer waiting
/// (group commit), applies the records in LSN order and acknowledges them.
final class CommitQueue: @unchecked Sendable {
    struct Pending {
        var lsn: UInt64
        var mutation: Mutation
        var continuation: CheckedContinuation<UInt64, Error>
    }

    /// Work the pipeline runs between two batches, with the WAL writer in hand.
    typealias Request = (WALWriter) -> Void

    /// The work taken by the pipeline in one round.
    struct Round {
        var pending: [Pending]
        var bytes: ByteWriter
        var requests: [Request]
        var failure: CairnError?
        var finished: Bool
    }

    // Guarded by `condition`:
    private var catalog: Catalog
    private var nextLSN: UInt64
    private var buffer = ByteWriter(capacity: 1 << 16)
    private var pending: [Pending] = []
    private var requests: [Request] = []
    private var failure: CairnError?
    private let thread = BackgroundThread(name: "cairn-commit")
    private var condition: NSCondition { thread.condition }
    private var stopping: Bool { thread.isStopping }
    /// Records in the previous round: that many writers were just acknowledged and are likely to
    /// write again at once, so the next round waits briefly for them (group commit).
    private var previousRoundSize = 0
    /// The longest a round waits for the writers of the previous round to come back.
    private let maximumCommitDelay: TimeInterval = 0.000_25

    /// The WAL writer, used only by the pipeline thread.
    let wal: WALWriter

    init(catalog: Catalog, nextLSN: UInt64, wal: WALWriter) {
        self.catalog = catalog
        self.nextLSN = nextLSN
        self.wal = wal
    }

    /// Validates and enqueues one mutation; returns its LSN once it is durable and applied.
    /// `build` sees the newest catalog and the LSN the mutation will get; it may change the
    /// catalog (catalog changes) or only read it (object writes). If it throws, nothing is queued.
    func submit(_ build: (inout Catalog, UInt64) throws -> Mutation) async throws -> UInt64 {
        try await withCheckedThrowingContinuation { continuation in
            condition.lock()
            if let failure {
                condition.unlock()
                return continuation.resume(throwing: failure)
            }
            if stopping {
                condition.unlock()
                return continuation.resume(throwing: CairnError.databaseClosed)
            }
            let lsn = nextLSN
            var newest = catalog
            let mutation: Mutation
            var payload = ByteWriter(capacity: 4096)
            // Built and encoded before the LSN is taken: a record that cannot be encoded is
            // refused here, never logged as bytes that recovery could not replay.
            do {
                mutation = try build(&newest, lsn)
                try mutation.encode(into: &payload)
            } catch {
                condition.unlock()
                return continuation.resume(throwing: error)
            }
            catalog = newest
            nextLSN += 1
            payload.bytes.withUnsafeBytes { WALFormat.appendRecord(lsn: lsn, payload: $0, to: &buffer) }
            pending.append(Pending(lsn: lsn, mutation: mutation, continuation: continuation))
            // Wake the pipeline for the first record of a round, or when the round is as large as
            // the last one; in between it is waiting for exactly this, and waking it would only
            // take a core from the writers still on their way.
            if pending.count == 1 || pending.count >= previousRoundSize { condition.signal() }
            condition.unlock()
        }
    }

    /// Runs `request` on the pipeline thread after the writes queued before it are applied.
    func enqueue(_ request: @escaping Request) {
        condition.lock()
        requests.append(request)
        condition.signal()
        condition.unlock()
    }

    /// Blocks the pipeline thread until there is work, then takes all of it.
    func nextRound() -> Round {
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && requests.isEmpty && !stopping { condition.wait() }
        if pending.count < previousRoundSize && requests.isEmpty && !stopping {
            let deadline = Date(timeIntervalSinceNow: maximumCommitDelay)
            while pending.count < previousRoundSize && condition.wait(until: deadline) {}
        }
        previousRoundSize = pending.count
        let round = Round(pending: pending, bytes: buffer, requests: requests, failure: failure,
                          finished: stopping && pending.isEmpty && requests.isEmpty)
        pending = []
        requests = []
        buffer = ByteWriter(capacity: 1 << 16)
        return round
    }

    /// Refuses every later write: a WAL write or sync failed, so the newest catalog and the
    /// durable log may differ until the database is reopened.
    func disable(_ error: CairnError) {
        condition.lock()
        if failure == nil { failure = error }
        condition.unlock()
    }

    /// Starts the pipeline thread running `loop` (which ends with `closeLog()`).
    func start(_ loop: @escaping @Sendable () -> Void) {
        thread.start(loop)
    }

    /// Stops accepting writes, lets the pipeline finish the queued ones, and waits for it.
    func stop() async {
        await thread.stop()
    }

    /// Closes the WAL as the pipeline thread exits.
    func closeLog() {
        condition.lock()
        // A clean close only when every queued write reached the log: after a failed write or
        // sync, what the file holds is not known.
        let lastLSN: UInt64? = failure == nil ? nextLSN - 1 : nil
        condition.unlock()
        wal.close(lastLSN: lastLSN)
    }
}
