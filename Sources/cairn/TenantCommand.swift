import ArgumentParser
import Cairn

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Manage the tenants of a multi-tenant collection.",
        subcommands: [Add.self, List.self, Remove.self, Activate.self, Deactivate.self]
    )

    static func setState(_ state: TenantState, of tenant: String, in collection: String, global: GlobalOptions) async throws {
        _ = try await global.perform(.setTenantState(collection: collection, tenant: tenant, state: state), as: Bool.self)
        global.report(.object(["tenant": .string(tenant), "state": .string(state.rawValue)]), "tenant \(tenant) is \(state.rawValue)")
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an active tenant.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The new tenant's name.") var tenant: String

        func run() async throws {
            _ = try await global.perform(.addTenant(collection: collection, tenant: tenant), as: Bool.self)
            global.report(.object(["collection": .string(collection), "tenant": .string(tenant), "state": .string("active")]), "added tenant \(tenant) to \(collection)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants with their state and object counts.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection.") var collection: String

        func run() async throws {
            let rows = try await global.perform(.tenants(collection: collection), as: [TenantListing].self).map { ($0.tenant, $0.objects) }
            if global.json {
                Output.json(.array(rows.map { tenant, count in
                    .object(["name": .string(tenant.name), "state": .string(tenant.state.rawValue),
                             "objects": count.map { .int(Int64($0)) } ?? .null])
                }))
            } else {
                Output.table(["TENANT", "STATE", "OBJECTS"], rows.map { tenant, count in
                    [tenant.name, tenant.state.rawValue, count.map(String.init) ?? "(not loaded)"]
                })
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a tenant and all its objects.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The tenant.") var tenant: String

        func run() async throws {
            _ = try await global.perform(.removeTenant(collection: collection, tenant: tenant), as: Bool.self)
            global.report(.object(["removed": .string(tenant)]), "removed tenant \(tenant) from \(collection)")
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a tenant: load its files so it can be read and written.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The tenant.") var tenant: String

        func run() async throws { try await TenantCommand.setState(.active, of: tenant, in: collection, global: global) }
    }

    struct Deactivate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Deactivate a tenant: its files stay on disk but are not loaded.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection.") var collection: String
        @Argument(help: "The tenant.") var tenant: String

        func run() async throws { try await TenantCommand.setState(.inactive, of: tenant, in: collection, global: global) }
    }
}
