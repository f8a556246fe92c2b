/// What a role may do, on which collections (`*` for all).
public struct Permission: Sendable, Hashable, Codable, CustomStringConvertible {
    /// What a permission allows.
    public enum Action: String, Sendable, Hashable, Codable, CaseIterable {
        case read, write, admin, backup
    }

    /// The action allowed.
    public var action: Action
    /// A collection name, or `*`.
    public var collection: String

    /// A permission for `action` on `collection` (`*`: every collection).
    public init(action: Action, collection: String = "*") {
        self.action = action
        self.collection = collection
    }

    /// Parses `read`, `write:articles`, `admin:*`, or returns nil (see `parse` for why).
    public init?(parsing text: String) {
        guard let permission = try? Permission.parse(text) else { return nil }
        self = permission
    }

    /// Parses `action` or `action:collection`, strictly: the action one of read, write, admin,
    /// backup; the collection `*` (all) or a valid collection name. `write:` (an empty
    /// collection) is an error, not a wildcard.
    public static func parse(_ text: String) throws -> Permission {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard let action = Action(rawValue: parts[0]) else {
            throw CairnError.invalidArgument("permission '\(text)': the action must be one of "
                + Action.allCases.map(\.rawValue).joined(separator: ", ") + " (then optionally :collection)")
        }
        guard parts.count == 2 else { return Permission(action: action) }
        let collection = parts[1]
        if collection == "*" { return Permission(action: action) }
        guard !collection.isEmpty else {
            throw CairnError.invalidArgument("permission '\(text)' names no collection: write \(action.rawValue) or \(action.rawValue):* for all of them")
        }
        do { try Naming.check(collection, kind: "collection") } catch {
            throw CairnError.invalidArgument("permission '\(text)': \(error)")
        }
        return Permission(action: action, collection: collection)
    }

    public var description: String { "\(action.rawValue):\(collection)" }
}

/// A named set of permissions.
public struct Role: Sendable, Hashable, Codable {
    /// The role's name, unique in the database.
    public var name: String
    /// What the role allows.
    public var permissions: [Permission]

    /// A role named `name` that grants `permissions`.
    public init(name: String, permissions: [Permission]) {
        self.name = name
        self.permissions = permissions
    }
}

/// A user: roles and the SHA-256 hashes of its API keys (never the keys themselves).
public struct User: Sendable, Hashable, Codable {
    /// The user's name, unique in the database.
    public var name: String
    /// The names of the user's roles.
    public var roles: [String]
    /// Lower-case hex SHA-256 digests of the user's API keys.
    public var apiKeyHashes: [String]

    /// A user named `name` with `roles` and the SHA-256 hashes of its API keys.
    public init(name: String, roles: [String], apiKeyHashes: [String] = []) {
        self.name = name
        self.roles = roles
        self.apiKeyHashes = apiKeyHashes
    }
}
