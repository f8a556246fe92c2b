/// Which partitions of a database a backup or a restore covers, and the names they get there.
///
/// The empty scope covers everything under its own names. `collections` narrows it to some
/// collections (by name or alias); `tenants` to some tenants of the one collection named. The
/// renames give a collection (`collectionRenames`) or a tenant of the one collection in scope
/// (`tenantRenames`) a new name.
public struct PartitionScope: Sendable, Hashable, Codable {
    /// Collections covered, by name or alias; nil: every collection.
    public var collections: [String]?
    /// Tenants covered, of the one collection in `collections`; nil: every tenant.
    public var tenants: [String]?
    /// Old collection name → new name.
    public var collectionRenames: [String: String]
    /// Old tenant name → new name, in the one collection in `collections`.
    public var tenantRenames: [String: String]

    /// The scope of `collections` (nil: all), `tenants` of the one collection (nil: all), with renames.
    public init(collections: [String]? = nil, tenants: [String]? = nil,
                collectionRenames: [String: String] = [:], tenantRenames: [String: String] = [:]) {
        self.collections = collections
        self.tenants = tenants
        self.collectionRenames = collectionRenames
        self.tenantRenames = tenantRenames
    }

    /// Whether the scope is the whole database under its own names.
    public var isEverything: Bool { collections == nil && tenants == nil && collectionRenames.isEmpty && tenantRenames.isEmpty }

    /// Whether the scope narrows the database (names some collections or tenants).
    public var isPartial: Bool { collections != nil || tenants != nil }

    /// The scope without its renames.
    public var withoutRenames: PartitionScope { PartitionScope(collections: collections, tenants: tenants) }

    /// Checks what can be checked without a catalog: names, and that tenants and tenant
    /// renames come with exactly one collection.
    public func validate() throws {
        if let collections {
            guard !collections.isEmpty else { throw CairnError.invalidArgument("the scope names no collection") }
            for name in collections { try Naming.check(name, kind: "collection") }
        }
        if tenants != nil || !tenantRenames.isEmpty {
            guard collections?.count == 1 else {
                throw CairnError.invalidArgument("tenants (and tenant renames) need exactly one collection: name it with --collection")
            }
        }
        for name in tenants ?? [] { try Naming.check(name, kind: "tenant") }
        for (old, new) in collectionRenames {
            try Naming.check(old, kind: "collection")
            try Naming.check(new, kind: "collection")
        }
        for (old, new) in tenantRenames {
            try Naming.check(old, kind: "tenant")
            try Naming.check(new, kind: "tenant")
        }
        for (kind, renames) in [("collections", collectionRenames), ("tenants", tenantRenames)] {
            let targets = Dictionary(grouping: renames.keys, by: { renames[$0]! })
            if let (target, sources) = targets.first(where: { $0.value.count > 1 }) {
                throw CairnError.invalidArgument("two \(kind) cannot both be renamed to '\(target)': \(sources.sorted().joined(separator: ", "))")
            }
        }
    }

    /// Parses `old=new` pairs, as `--rename` and `--rename-tenant` take them.
    public static func renames(_ pairs: [String], kind: String) throws -> [String: String] {
        var renames: [String: String] = [:]
        for pair in pairs {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CairnError.invalidArgument("'\(pair)': write a \(kind) rename as old=new")
            }
            guard renames.updateValue(parts[1], forKey: parts[0]) == nil else {
                throw CairnError.invalidArgument("the \(kind) '\(parts[0])' is renamed twice")
            }
        }
        return renames
    }

    /// The scope resolved against the catalog of the state it cuts: names checked (an unknown
    /// collection or tenant is an error naming what there is), aliases resolved.
    package func resolve(in catalog: Catalog) throws -> ResolvedScope {
        try validate()
        let names = try collections.map { try $0.map { try catalog.resolve($0).name } } ?? Array(catalog.collections.keys)
        var tenantsByCollection: [String: Set<String>?] = [:]
        for name in names { tenantsByCollection[name] = .some(nil) }
        if let tenants, let name = names.first {
            guard catalog.collections[name]!.multiTenant else { throw CairnError.tenantsNotEnabled(collection: name) }
            for tenant in tenants where catalog.tenants[name]?[tenant] == nil {
                throw CairnError.tenantNotFound(collection: name, tenant: tenant)
            }
            tenantsByCollection[name] = Set(tenants)
        }
        var renamed: [String: String] = [:]
        for (old, new) in collectionRenames {
            let name = (try? catalog.resolve(old).name) ?? old
            guard tenantsByCollection[name] != nil else {
                throw CairnError.invalidArgument("cannot rename '\(old)': it is not a collection in the scope (\(names.sorted().joined(separator: ", ")))")
            }
            renamed[name] = new
        }
        if let name = names.first, !tenantRenames.isEmpty {
            let covered = catalog.tenants[name].map { Set($0.keys) } ?? []
            for old in tenantRenames.keys where !covered.contains(old) || !(tenantsByCollection[name]!?.contains(old) ?? true) {
                throw CairnError.invalidArgument("cannot rename tenant '\(old)': it is not a tenant of '\(name)' in the scope")
            }
        }
        return try ResolvedScope(source: catalog, tenantsByCollection: tenantsByCollection, collectionNames: renamed,
                                 tenantNames: tenantRenames, renamedCollection: names.count == 1 ? names[0] : nil)
    }
}

/// A scope checked against one catalog: which partitions it covers, the name each gets, and
/// the catalog cut down and renamed to match.
package struct ResolvedScope: Sendable {
    /// The catalog the scope was resolved in.
    package let source: Catalog
    /// Covered collections (source names), each with its covered tenants (nil: all).
    private let tenantsByCollection: [String: Set<String>?]
    private let collectionNames: [String: String]
    private let tenantNames: [String: String]
    /// The one collection whose tenants `tenantNames` renames.
    private let renamedCollection: String?
    /// The source catalog cut to the scope, under the new names.
    package private(set) var catalog = Catalog()
    /// What a person should know about the catalog's other layers: aliases and role
    /// permissions that followed a renamed collection, and aliases dropped because a restored
    /// collection took their name.
    package private(set) var notes: [String] = []

    fileprivate init(source: Catalog, tenantsByCollection: [String: Set<String>?], collectionNames: [String: String],
                     tenantNames: [String: String], renamedCollection: String?) throws {
        self.source = source
        self.tenantsByCollection = tenantsByCollection
        self.collectionNames = collectionNames
        self.tenantNames = tenantNames
        self.renamedCollection = renamedCollection
        catalog = try cutCatalog()
    }

    /// Whether the scope covers partition `key` (source names).
    package func covers(_ key: PartitionKey) -> Bool {
        guard let tenants = tenantsByCollection[key.collection] else { return false }
        return tenants?.contains(key.tenant) ?? true
    }

    /// Whether the scope covers collection `name` (a source name), or some of its tenants.
    package func coversCollection(_ name: String) -> Bool { tenantsByCollection[name] != nil }

    /// The name partition `key` (source names) gets.
    package func renamed(_ key: PartitionKey) -> PartitionKey {
        var tenant = key.tenant
        if key.collection == renamedCollection, let new = tenantNames[tenant] { tenant = new }
        return PartitionKey(collection: renamedCollection(key.collection), tenant: tenant)
    }

    /// The name collection `name` (a source name) gets.
    package func renamedCollection(_ name: String) -> String { collectionNames[name] ?? name }

    /// Every covered partition of the source catalog, with whether it is loaded.
    package var partitions: [PartitionKey] { source.partitionsByLoadedState.keys.filter(covers).sorted { $0.description < $1.description } }

    /// The source catalog cut to the scope and renamed: the covered collections (schemas and
    /// ingestion configuration kept), their covered tenants with their states, the aliases of
    /// covered collections (following renames), and all roles and users, whose permissions on a
    /// renamed collection follow it.
    private mutating func cutCatalog() throws -> Catalog {
        var cut = Catalog()
        for (name, tenants) in tenantsByCollection {
            var schema = source.collections[name]!
            schema.name = renamedCollection(name)
            guard cut.collections.updateValue(schema, forKey: schema.name) == nil else {
                throw CairnError.invalidArgument("two collections would be named '\(schema.name)'")
            }
            guard schema.multiTenant else { continue }
            var kept: [String: TenantInfo] = [:]
            for (tenantName, var info) in source.tenants[name] ?? [:] where tenants?.contains(tenantName) ?? true {
                info.name = renamed(PartitionKey(collection: name, tenant: tenantName)).tenant
                guard kept.updateValue(info, forKey: info.name) == nil else {
                    throw CairnError.invalidArgument("two tenants of '\(schema.name)' would be named '\(info.name)'")
                }
            }
            cut.tenants[schema.name] = kept
        }
        for (alias, target) in source.aliases.sorted(by: { $0.key < $1.key }) where tenantsByCollection[target] != nil {
            let newTarget = renamedCollection(target)
            if cut.collections[alias] != nil {
                notes.append("alias '\(alias)' was dropped: a restored collection now has that name")
                continue
            }
            cut.aliases[alias] = newTarget
            if newTarget != target { notes.append("alias '\(alias)' follows its collection: it now points at '\(newTarget)'") }
        }
        cut.users = source.users
        cut.roles = source.roles.mapValues { role in
            var role = role
            role.permissions = role.permissions.map { permission in
                var permission = permission
                if permission.collection != "*", tenantsByCollection[permission.collection] != nil {
                    permission.collection = renamedCollection(permission.collection)
                }
                return permission
            }
            return role
        }
        for role in cut.roles.values.sorted(by: { $0.name < $1.name }) where role != source.roles[role.name] {
            notes.append("role '\(role.name)' follows its renamed collections: \(role.permissions.map(\.description).joined(separator: ", "))")
        }
        return cut
    }
}
