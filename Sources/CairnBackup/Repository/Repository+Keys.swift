import Foundation

/// A key slot as `repo key list` shows it (the wrapped key itself is never shown).
public struct KeySlotInfo: Codable, Sendable, Hashable {
    public var id: String
    /// `password` or `keyFile`.
    public var kind: String
    public var createdAt: Int64
    public var hostname: String
    /// Whether this is the slot that opened the repository now.
    public var isCurrent: Bool
}

extension Repository {
    /// Every key slot; the one that opened the repository is marked.
    public func keys() async throws -> [KeySlotInfo] {
        try await Self.keySlots(in: backend).map { slot in
            KeySlotInfo(id: slot.id, kind: slot.kind.rawValue, createdAt: slot.createdAt, hostname: slot.hostname, isCurrent: slot.id == openedWith)
        }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Adds a key slot that opens the repository with `credential`; returns its id.
    public func addKey(_ credential: RepositoryCredential) async throws -> String {
        try await addKey(credential, scryptLogN: 15)
    }

    func addKey(_ credential: RepositoryCredential, scryptLogN: Int) async throws -> String {
        try await withLock(exclusive: false, operation: "key add") {
            try Self.checkUsable(credential)
            let slot = try KeySlot.make(wrapping: key, for: credential, scryptLogN: scryptLogN)
            try await backend.put(Self.keysFolder + slot.id, try JSONEncoder.sorted.encode(slot).bytes)
            return slot.id
        }
    }

    /// Removes key slot `id`. The last slot is never removed (the repository would be
    /// unreadable), nor the one in use unless `allowCurrent` (a password change removes it
    /// after adding the new one).
    public func removeKey(_ id: String, allowCurrent: Bool = false) async throws {
        try await withLock(exclusive: true, operation: "key remove") {
            let slots = try await Self.keySlots(in: backend)
            guard slots.contains(where: { $0.id == id }) else { throw RepositoryError.invalidArgument("the repository has no key \(id) (repo key list)") }
            guard slots.count > 1 else {
                throw RepositoryError.invalidArgument("key \(id) is the repository's last key; add another first, or the backups could never be read again")
            }
            if id == openedWith && !allowCurrent {
                throw RepositoryError.invalidArgument("key \(id) is the one in use; open the repository with another key to remove it (or use repo key passwd)")
            }
            try await backend.delete(Self.keysFolder + id)
        }
    }
}
