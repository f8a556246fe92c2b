import ArgumentParser
import Cairn

struct AliasCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alias",
        abstract: "Stable names that point at a collection, switched atomically.",
        subcommands: [Set.self, Remove.self, List.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Point an alias at a collection (replacing its old target).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The alias.") var alias: String
        @Argument(help: "The collection it points at.") var collection: String

        func run() async throws {
            _ = try await global.perform(.setAlias(alias: alias, collection: collection), as: Bool.self)
            global.report(.object(["alias": .string(alias), "collection": .string(collection)]), "alias \(alias) -> \(collection)")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove an alias (the collection stays).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The alias.") var alias: String

        func run() async throws {
            _ = try await global.perform(.removeAlias(alias: alias), as: Bool.self)
            global.report(.object(["removed": .string(alias)]), "removed alias \(alias)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List aliases.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let aliases = try await global.perform(.aliases, as: [String: String].self)
            if global.json { return Output.json(.object(aliases.mapValues { .string($0) })) }
            if aliases.isEmpty { return print("no aliases") }
            Output.table(["ALIAS", "COLLECTION"], aliases.keys.sorted().map { [$0, aliases[$0]!] })
        }
    }
}
