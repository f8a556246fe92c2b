import ArgumentParser
import Cairn

struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Users, roles and API keys (stored now; enforced by `cairn serve`).",
        subcommands: [RoleSet.self, RoleRemove.self, UserAdd.self, UserRemove.self, List.self]
    )

    struct RoleSet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role-set", abstract: "Create or replace a role.",
                                                        discussion: "Example: cairn access role-set reader --permission read:articles")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The role name.") var name: String
        @Option(name: .customLong("permission"), help: ArgumentHelp("action[:collection], action one of read, write, admin, backup; repeat for more.", valueName: "perm"))
        var permissions: [String] = []

        func validate() throws {
            for permission in permissions {
                do { _ = try Permission.parse(permission) } catch { throw ValidationError("\(error)") }
            }
        }

        func run() async throws {
            let role = Role(name: name, permissions: try permissions.map(Permission.parse))
            try await global.withDatabase { db in try await db.putRole(role) }
            global.report(encodable: role, "role \(name): \(role.permissions.map(\.description).joined(separator: ", "))")
        }
    }

    struct RoleRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "role-remove", abstract: "Remove a role (users lose it).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The role name.") var name: String

        func run() async throws {
            try await global.withDatabase { db in try await db.deleteRole(name) }
            global.report(.object(["removed": .string(name)]), "removed role \(name)")
        }
    }

    struct UserAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "user-add", abstract: "Create a user and print its new API key once.",
                                                        discussion: "An existing user is refused; --replace replaces their roles and revokes their API keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name.") var name: String
        @Option(name: .customLong("role"), help: "A role; repeat for more.") var roles: [String] = []
        @Flag(help: "Replace an existing user of that name: new roles, a new key, the previous API keys revoked.") var replace = false

        func run() async throws {
            let (user, key, revoked) = try await global.withDatabase { db in
                let previous = db.users().first { $0.name == name }?.apiKeyHashes.count ?? 0
                let (user, key) = try await db.createUser(name, roles: roles, replacing: replace)
                return (user, key, previous)
            }
            if global.json {
                return Output.json(.object(["user": .string(user.name), "apiKey": .string(key), "revokedAPIKeys": .int(Int64(revoked))]))
            }
            if revoked > 0 { print("replaced user \(user.name): their \(revoked) previous API key\(revoked == 1 ? "" : "s") no longer work\(revoked == 1 ? "s" : "")") }
            print("created user \(user.name) with roles \(user.roles.joined(separator: ", "))")
            print("API key (shown once, only its hash is stored): \(key)")
        }
    }

    struct UserRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "user-remove", abstract: "Remove a user and its API keys.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The user name.") var name: String

        func run() async throws {
            try await global.withDatabase { db in try await db.deleteUser(name) }
            global.report(.object(["removed": .string(name)]), "removed user \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List roles and users.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let (roles, users) = try await global.withDatabase { db in (db.roles(), db.users()) }
            if global.json {
                return Output.json(.object([
                    "roles": .array(roles.map { .object(["name": .string($0.name), "permissions": .array($0.permissions.map { .string($0.description) })]) }),
                    "users": .array(users.map { .object(["name": .string($0.name), "roles": .array($0.roles.map { .string($0) }),
                                                         "apiKeys": .int(Int64($0.apiKeyHashes.count))]) }),
                ]))
            }
            Output.table(["ROLE", "PERMISSIONS"], roles.map { [$0.name, $0.permissions.map(\.description).joined(separator: " ")] })
            print("")
            Output.table(["USER", "ROLES", "API KEYS"], users.map { [$0.name, $0.roles.joined(separator: " "), String($0.apiKeyHashes.count)] })
        }
    }
}
