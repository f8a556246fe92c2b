import Crypto
import Foundation

extension Database {
    /// Creates or replaces a role. Every permission must name `*` or a collection or alias that
    /// exists (a typo would otherwise grant nothing, silently).
    public func putRole(_ role: Role) async throws {
        let catalog = engine.catalog
        for permission in role.permissions where permission.collection != "*" {
            _ = try Permission.parse(permission.description)
            guard catalog.collections[permission.collection] != nil || catalog.aliases[permission.collection] != nil else {
                throw CairnError.invalidArgument("permission '\(permission)' names no existing collection or alias (cairn collection list)")
            }
        }
        try await engine.putRole(role)
    }

    /// Deletes the role `name`; users that had it lose its permissions.
    public func deleteRole(_ name: String) async throws {
        try await engine.deleteRole(name)
    }

    /// Creates a user with a new API key. The key is returned once and only its SHA-256 hash is
    /// stored: keep it, it cannot be shown again. An existing user is refused with `userExists`
    /// unless `replacing` is true: then the roles are replaced and the previous API keys stop working.
    public func createUser(_ name: String, roles: [String], replacing: Bool = false) async throws -> (user: User, apiKey: String) {
        if !replacing, let existing = engine.catalog.users[name] {
            throw CairnError.userExists(name: name, apiKeys: existing.apiKeyHashes.count)
        }
        let apiKey = APIKey.generate()
        let user = User(name: name, roles: roles, apiKeyHashes: [APIKey.hash(apiKey)])
        try await engine.putUser(user)
        return (user, apiKey)
    }

    /// Deletes the user `name` and with it every API key of that user.
    public func deleteUser(_ name: String) async throws {
        try await engine.deleteUser(name)
    }

    /// Roles sorted by name.
    public func roles() -> [Role] { engine.catalog.roles.values.sorted { $0.name < $1.name } }

    /// Users sorted by name (with key hashes, never keys).
    public func users() -> [User] { engine.catalog.users.values.sorted { $0.name < $1.name } }
}

/// API keys: random secrets shown once, stored as SHA-256 hashes.
public enum APIKey {
    /// A new key: `cairn_` and 48 hex digits (192 random bits).
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "cairn_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The lower-case hex SHA-256 of a key, as stored.
    public static func hash(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
