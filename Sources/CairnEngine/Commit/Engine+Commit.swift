import Foundation

extension Engine {
    /// The commit pipeline thread: write, sync once, apply in LSN order, acknowledge.
    func runCommitPipeline() {
        while true {
            let round = commits.nextRound()
            if round.finished { break }
            if !round.pending.isEmpty { commit(round) }
            for request in round.requests { request(commits.wal) }
        }
        commits.closeLog()
    }

    private func commit(_ round: CommitQueue.Round) {
        if let failure = round.failure {
            for pending in round.pending { pending.continuation.resume(throwing: failure) }
            return
        }
        do {
            try round.bytes.bytes.withUnsafeBytes { try commits.wal.append($0) }
            if options.durability == .synchronous { try commits.wal.sync() }
            options.reachedStep("wal-synced")
        } catch {
            let failure = CairnError.writesDisabled(reason: "\(error)")
            // Every waiting writer gets the error; the log only notes why later writes are refused.
            logger.notice("WAL write failed; refusing writes until reopened", metadata: ["error": "\(error)"])
            commits.disable(failure)
            for pending in round.pending { pending.continuation.resume(throwing: error) }
            return
        }
        let needsFlush = state.withLock { state in
            for pending in round.pending { applyDurable(pending.mutation, lsn: pending.lsn, to: &state) }
            return checkpointIsDue(&state, walBytes: round.bytes.count)
        }
        for pending in round.pending { pending.continuation.resume(returning: pending.lsn) }
        if needsFlush { maintenance.requestFlush() }
        if commits.wal.size >= options.walFileBytes {
            do { try commits.wal.rotate() } catch {
                commits.disable(.writesDisabled(reason: "could not start a new WAL file: \(error)"))
            }
        }
    }

    /// The checkpoint policy: flush when the memtables are full, or when the WAL since the last
    /// checkpoint (what a restart would replay) is too large or too old.
    private func checkpointIsDue(_ state: inout EngineState, walBytes: Int) -> Bool {
        let now = Clock.milliseconds()
        state.walBytesSinceCheckpoint += walBytes
        if state.firstUnflushedWriteAt == nil { state.firstUnflushedWriteAt = now }
        let age = Double(now - state.firstUnflushedWriteAt!) / 1000
        return state.memtableBytes >= options.memtableFlushBytes || state.walBytesSinceCheckpoint >= options.checkpointWALBytes
            || age >= options.checkpointInterval
    }

    /// Applies a record that is already durable. Catalog changes were validated when they were
    /// queued, so a failure here means the log and the state disagree.
    func applyDurable(_ mutation: Mutation, lsn: UInt64, to state: inout EngineState) {
        do { try applier.apply(mutation, lsn: lsn, to: &state) } catch {
            logger.critical("a validated WAL record did not apply", metadata: ["lsn": "\(lsn)", "error": "\(error)"])
        }
    }
}
