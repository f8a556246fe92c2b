import ArgumentParser
import Cairn

/// `--collection` and `--tenant`: the part of a database a backup or restore covers.
struct ScopeOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this collection (repeatable; default: all).", valueName: "name")) var collection: [String] = []
    @Option(help: ArgumentHelp("Only this tenant of the one --collection (repeatable; default: all).", valueName: "name")) var tenant: [String] = []

    /// The scope the options name (everything without them).
    func scope() throws -> PartitionScope {
        PartitionScope(collections: collection.isEmpty ? nil : collection, tenants: tenant.isEmpty ? nil : tenant)
    }

    /// A scope in a few words: `articles`, `articles/acme,globex`, `articles as articles_restored`.
    static func describe(_ scope: PartitionScope) -> String {
        var text = scope.collections?.joined(separator: ",") ?? "all collections"
        if let tenants = scope.tenants { text += "/" + tenants.joined(separator: ",") }
        let renames = (scope.collectionRenames.merging(scope.tenantRenames) { first, _ in first }).sorted { $0.key < $1.key }
        if !renames.isEmpty { text += " renamed " + renames.map { "\($0.key)→\($0.value)" }.joined(separator: ", ") }
        return text
    }
}
