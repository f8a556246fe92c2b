/// What a role may do, on which collections (`*` for all).
public struct Permission: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        case read, write, admin, backup
    }

    public var action: Action
    /// A collection name, or `*`.
    public var collection: String

    public init(action: Action, collection: String = "*") {
        self.action = action
        self.collection = collection
    }

    /// Parses `read`, `write:articles`, `admin:*`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let action = Action(rawValue: first) else { return nil }
        self.init(action: action, collection: parts.count > 1 ? parts[1] : "*")
    }

    public var description: String { "\(action.rawValue):\(collection)" }
}

/// A named set of permissions.
public struct Role: Sendable, Hashable, Codable {
    public var name: String
    public var permissions: [Permission]

    public init(name: String, permissions: [Permission]) {
        self.name = name
        self.permissions = permissions
    }
}

/// A user: roles and the SHA-256 hashes of its API keys (never the keys themselves).
public struct User: Sendable, Hashable, Codable {
    public var name: String
    public var roles: [String]
    /// Lower-case hex SHA-256 digests of the user's API keys.
    public var apiKeyHashes: [String]

    public init(name: String, roles: [String], apiKeyHashes: [String] = []) {
        self.name = name
        self.roles = roles
        self.apiKeyHashes = apiKeyHashes
    }
}
