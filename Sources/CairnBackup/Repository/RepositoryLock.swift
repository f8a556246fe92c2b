import CairnEngine
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A lock on a repository, `locks/<id>` (sealed): who holds it and how. Backups, restores,
/// checks, copies and key changes take shared locks; forget and prune take an exclusive one.
/// A holder refreshes its lock every few minutes, so a lock is stale when it has not been
/// refreshed for `staleAfter`, or when its process is gone (same host, no such pid). Stale locks
/// are ignored (and removed when their process is provably gone); a live lock is never broken.
public struct RepositoryLockInfo: Codable, Sendable, Hashable {
    public var host: String
    public var pid: Int32
    public var exclusive: Bool
    /// What the holder is doing (backup, prune…).
    public var operation: String
    /// When the lock was taken and last refreshed, in ms since the epoch.
    public var taken: Int64
    public var refreshed: Int64
    /// Tells this process's locks apart across `Repository` values (and crashes simulated in tests).
    var token: String
}

/// Locks this process holds, by object name: a lock naming this host and pid that is not here
/// was left by an operation that never released it, so it is stale.
private let heldLocks = Mutex<Set<String>>([])

extension Repository {
    static let locksFolder = "locks/"
    /// A lock not refreshed for this long is stale (30 minutes, as restic).
    static let staleAfter: Int64 = 30 * 60 * 1000
    /// How often a holder refreshes its lock.
    static let refreshEvery: Duration = .seconds(5 * 60)

    /// Runs `body` holding a lock on the repository; fails with `RepositoryError.locked` naming
    /// the holder when a live lock conflicts.
    package func withLock<Result: Sendable>(exclusive: Bool, operation: String,
                                            _ body: () async throws -> Result) async throws -> Result {
        let now = Clock.milliseconds()
        var info = RepositoryLockInfo(host: ProcessInfo.processInfo.hostName, pid: getpid(), exclusive: exclusive,
                                      operation: operation, taken: now, refreshed: now,
                                      token: Hex.encode((0..<8).map { _ in UInt8.random(in: 0...255) }))
        try checkNoConflict(await liveLocks(), exclusive: exclusive)
        let name = Self.locksFolder + info.token
        try await writeLock(info, name: name)
        heldLocks.withLock { _ = $0.insert(name) }
        let refresher = Task { [self] in
            while !Task.isCancelled {
                try await Task.sleep(for: Self.refreshEvery)
                info.refreshed = Clock.milliseconds()
                try await backend.delete(name)
                try await writeLock(info, name: name)
            }
        }
        defer {
            refresher.cancel()
            heldLocks.withLock { _ = $0.remove(name) }
        }
        do {
            // Another process may have locked between the look and the write: look again.
            try checkNoConflict(await liveLocks().filter { $0.name != name }, exclusive: exclusive)
            let result = try await body()
            refresher.cancel()
            _ = await refresher.result
            try await backend.delete(name)
            return result
        } catch {
            refresher.cancel()
            _ = await refresher.result
            try? await backend.delete(name)
            throw error
        }
    }

    /// Every lock in the repository and whether it is stale.
    public func locks() async throws -> [(info: RepositoryLockInfo, stale: Bool)] {
        try await allLocks().map { ($0.info, isStale($0.info, name: $0.name)) }
    }

    /// Removes stale locks (all locks with `all`: only when no other process uses the
    /// repository). Returns what was removed.
    public func unlock(all: Bool = false) async throws -> [RepositoryLockInfo] {
        var removed: [RepositoryLockInfo] = []
        for lock in try await allLocks() where all || isStale(lock.info, name: lock.name) {
            try await backend.delete(lock.name)
            removed.append(lock.info)
        }
        return removed
    }

    private func writeLock(_ info: RepositoryLockInfo, name: String) async throws {
        try await backend.put(name, SealedObject.seal(try JSONEncoder.sorted.encode(info).bytes, kind: "lock", key: key))
    }

    private func allLocks() async throws -> [(name: String, info: RepositoryLockInfo)] {
        var found: [(name: String, info: RepositoryLockInfo)] = []
        for object in try await backend.list(Self.locksFolder) {
            let bytes: [UInt8]
            do { bytes = try await backend.get(object.name) } catch RepositoryError.missing { continue } // released meanwhile
            let plaintext = try SealedObject.open(bytes, kind: "lock", key: key, name: object.name)
            do { found.append((object.name, try JSONDecoder().decode(RepositoryLockInfo.self, from: Data(plaintext)))) } catch {
                throw RepositoryError.damaged(object: object.name, reason: "the lock does not decode: \(error)")
            }
        }
        return found
    }

    /// Locks that are not stale. Those whose process is provably gone are removed on the way.
    private func liveLocks() async throws -> [(name: String, info: RepositoryLockInfo)] {
        var live: [(name: String, info: RepositoryLockInfo)] = []
        for lock in try await allLocks() {
            if isStale(lock.info, name: lock.name) {
                if processIsGone(lock.info, name: lock.name) { try? await backend.delete(lock.name) }
                continue
            }
            live.append(lock)
        }
        return live
    }

    private func checkNoConflict(_ live: [(name: String, info: RepositoryLockInfo)], exclusive: Bool) throws {
        if let conflict = live.first(where: { exclusive || $0.info.exclusive }) {
            throw RepositoryError.locked(repository: backend.location, holder: conflict.info)
        }
    }

    private func isStale(_ info: RepositoryLockInfo, name: String) -> Bool {
        Clock.milliseconds() - info.refreshed > Self.staleAfter || processIsGone(info, name: name)
    }

    /// Whether the lock's process has certainly ended: it ran on this host and no process has
    /// its pid, or it is this process and the lock is not one it holds.
    private func processIsGone(_ info: RepositoryLockInfo, name: String) -> Bool {
        guard info.host == ProcessInfo.processInfo.hostName else { return false }
        if info.pid == getpid() { return !heldLocks.withLock { $0.contains(name) } }
        return kill(info.pid, 0) != 0 && errno == ESRCH
    }
}
