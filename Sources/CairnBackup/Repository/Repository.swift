import CairnEngine
import Foundation

/// A backup repository opened with a key: the backend that holds its objects, its settings
/// and the master key that seals and names them.
///
/// ```
/// config       the settings (RepositoryConfig), sealed
/// keys/<id>    key slots: the master key wrapped by a password or a key file (plain JSON)
/// ```
/// Packs, indexes and backups follow the same rules: every object is sealed (`SealedObject`)
/// and written once under a name that is never reused.
public struct Repository: Sendable {
    public let backend: any RepositoryBackend
    let config: RepositoryConfig
    let key: MasterKey
    /// The id of the key slot that opened the repository.
    let openedWith: String
    /// Called at the named steps of multi-step operations (prune), so crash tests can stop a
    /// process exactly there (`CAIRN_CRASH_AT` in the CLI).
    package var reachedStep: @Sendable (String) -> Void = { _ in }

    /// The repository's id.
    public var id: String { config.id }

    /// The backend of a repository in the local directory `path` (another disk, a mounted
    /// volume); the directory is created when the repository is initialised.
    public static func localBackend(at path: String) -> any RepositoryBackend { LocalBackend(root: path) }

    static let configName = "config"
    static let keysFolder = "keys/"

    /// Creates a repository in `backend`, which must be empty, with one key slot for
    /// `credential`. The key slot is written first and the config last (a conditional create),
    /// so a crash leaves either a whole repository or key slots without a config: not a
    /// repository, and `initialize` may run there again (it deletes those slots, which wrap a
    /// key that never sealed anything).
    public static func initialize(_ backend: any RepositoryBackend, credential: RepositoryCredential) async throws -> Repository {
        try await initialize(backend, credential: credential, scryptLogN: 15)
    }

    static func initialize(_ backend: any RepositoryBackend, credential: RepositoryCredential, scryptLogN: Int) async throws -> Repository {
        try checkUsable(credential)
        let existing = try await backend.list("")
        guard existing.allSatisfy({ $0.name.hasPrefix(keysFolder) }) else { throw RepositoryError.alreadyExists(repository: backend.location) }
        for leftover in existing { try await backend.delete(leftover.name) }
        let key = MasterKey.random()
        let slot = try KeySlot.make(wrapping: key, for: credential, scryptLogN: scryptLogN)
        try await backend.put(keysFolder + slot.id, try JSONEncoder.sorted.encode(slot).bytes)
        let config = RepositoryConfig(id: Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) }),
                                      createdAt: Int64(Date().timeIntervalSince1970 * 1000))
        let sealed = SealedObject.seal(try JSONEncoder.sorted.encode(config).bytes, kind: configName, key: key)
        guard try await backend.create(configName, sealed) else { throw RepositoryError.alreadyExists(repository: backend.location) }
        return Repository(backend: backend, config: config, key: key, openedWith: slot.id)
    }

    /// Opens the repository in `backend` with the first key slot that `credential` unlocks.
    /// A wrong password or key file is `RepositoryError.wrongKey`, and nothing is written.
    public static func open(_ backend: any RepositoryBackend, credential: RepositoryCredential) async throws -> Repository {
        let sealedConfig: [UInt8]
        do { sealedConfig = try await backend.get(configName) } catch RepositoryError.missing {
            throw RepositoryError.notARepository(repository: backend.location)
        }
        var unlockedKeys = 0
        for slot in try await keySlots(in: backend) {
            guard let key = try slot.unwrap(with: credential) else { continue }
            unlockedKeys += 1
            // A slot left by an interrupted `repo init` over which another init succeeded wraps
            // a key that never sealed the config: try the next slot.
            guard let plaintext = try? SealedObject.open(sealedConfig, kind: configName, key: key, name: configName) else { continue }
            let config: RepositoryConfig
            do { config = try JSONDecoder().decode(RepositoryConfig.self, from: Data(plaintext)) } catch {
                throw RepositoryError.damaged(object: configName, reason: "its settings do not decode: \(error)")
            }
            guard config.formatVersion <= RepositoryConfig.formatVersion else {
                throw RepositoryError.unsupportedVersion(repository: backend.location, version: config.formatVersion)
            }
            return Repository(backend: backend, config: config, key: key, openedWith: slot.id)
        }
        if unlockedKeys > 0 {
            throw RepositoryError.damaged(object: configName, reason: "the key opens but the config fails its authentication tag")
        }
        throw RepositoryError.wrongKey(repository: backend.location)
    }

    /// Every key slot, by id. A slot that does not decode is reported, not skipped.
    static func keySlots(in backend: any RepositoryBackend) async throws -> [KeySlot] {
        var slots: [KeySlot] = []
        for object in try await backend.list(keysFolder) {
            let bytes = try await backend.get(object.name)
            do { slots.append(try JSONDecoder().decode(KeySlot.self, from: Data(bytes))) } catch {
                throw RepositoryError.damaged(object: object.name, reason: "the key slot does not decode: \(error)")
            }
        }
        return slots
    }

    static func checkUsable(_ credential: RepositoryCredential) throws {
        switch credential {
        case let .password(password) where password.isEmpty:
            throw RepositoryError.invalidArgument("the password is empty; a repository is never created or opened without a key")
        case let .keyFile(bytes) where bytes.count < 16:
            throw RepositoryError.invalidArgument("the key file holds \(bytes.count) bytes; a key file needs at least 16 random bytes")
        default:
            break
        }
    }
}

extension JSONEncoder {
    /// Sorted keys: the same value always encodes to the same bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}

extension Data {
    var bytes: [UInt8] { [UInt8](self) }
}
