/// The state of a tenant: an inactive tenant keeps its files on disk but is not loaded.
public enum TenantState: String, Sendable, Hashable, Codable {
    case active, inactive
}

/// A tenant of a multi-tenant collection.
public struct TenantInfo: Sendable, Hashable, Codable {
    /// The tenant's name, unique within its collection.
    public var name: String
    /// Whether the tenant's data is loaded (active) or only kept on disk (inactive).
    public var state: TenantState
    /// The LSN that added it: tells a removed-and-re-added tenant from the old one.
    public var createdLSN: UInt64
}

/// Every layer of the database except the objects: collections, tenants, aliases and access
/// control, as of one LSN. Kept in the manifest at the checkpoint and changed only by WAL records.
public struct Catalog: Sendable, Hashable, Codable {
    /// Collections by name.
    public var collections: [String: CollectionSchema] = [:]
    /// Tenants per multi-tenant collection.
    public var tenants: [String: [String: TenantInfo]] = [:]
    /// Alias name → collection name.
    public var aliases: [String: String] = [:]
    /// Access control: roles and users by name.
    public var roles: [String: Role] = [:]
    /// Users by name (each with roles and API key hashes).
    public var users: [String: User] = [:]

    /// An empty catalog (a new database).
    public init() {}

    /// The collection a name refers to, directly or through an alias.
    public func resolve(_ name: String) throws -> CollectionSchema {
        if let schema = collections[name] { return schema }
        if let target = aliases[name], let schema = collections[target] { return schema }
        throw CairnError.collectionNotFound(name)
    }

    /// The partition a (collection, tenant) pair names, checked against the catalog.
    func partition(_ collection: String, tenant: String?, requireActive: Bool = true) throws -> PartitionKey {
        let schema = try resolve(collection)
        guard schema.multiTenant else {
            if tenant != nil { throw CairnError.tenantsNotEnabled(collection: schema.name) }
            return PartitionKey(collection: schema.name, tenant: PartitionKey.defaultTenant)
        }
        guard let tenant else { throw CairnError.tenantRequired(collection: schema.name) }
        guard let info = tenants[schema.name]?[tenant] else {
            throw CairnError.tenantNotFound(collection: schema.name, tenant: tenant)
        }
        if requireActive && info.state == .inactive {
            throw CairnError.tenantInactive(collection: schema.name, tenant: tenant)
        }
        return PartitionKey(collection: schema.name, tenant: tenant)
    }

    /// The identity of a partition: the LSNs that created its collection and tenant.
    func incarnation(of key: PartitionKey) -> PartitionIncarnation? {
        guard let schema = collections[key.collection] else { return nil }
        if key.tenant == PartitionKey.defaultTenant {
            return schema.multiTenant ? nil : PartitionIncarnation(collectionLSN: schema.createdLSN, tenantLSN: schema.createdLSN)
        }
        guard let tenant = tenants[key.collection]?[key.tenant] else { return nil }
        return PartitionIncarnation(collectionLSN: schema.createdLSN, tenantLSN: tenant.createdLSN)
    }

    /// Every partition, and whether its data should be loaded (its tenant is active).
    package var partitionsByLoadedState: [PartitionKey: Bool] {
        var result: [PartitionKey: Bool] = [:]
        for schema in collections.values {
            guard schema.multiTenant else {
                result[PartitionKey(collection: schema.name, tenant: PartitionKey.defaultTenant)] = true
                continue
            }
            for tenant in (tenants[schema.name] ?? [:]).values {
                result[PartitionKey(collection: schema.name, tenant: tenant.name)] = tenant.state == .active
            }
        }
        return result
    }
}

/// A (collection, tenant) pair: the unit that owns a memtable and segment files.
public struct PartitionKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The tenant name used by collections that are not multi-tenant.
    public static let defaultTenant = "_default"

    /// The collection's name.
    public var collection: String
    /// The tenant's name, or `defaultTenant`.
    public var tenant: String

    /// The partition of `tenant` (or `defaultTenant`) in `collection`.
    public init(collection: String, tenant: String) {
        self.collection = collection
        self.tenant = tenant
    }

    public var description: String { tenant == Self.defaultTenant ? collection : "\(collection)/\(tenant)" }
}

/// Which creation of a collection and tenant a file belongs to.
package struct PartitionIncarnation: Sendable, Hashable, Codable {
    package var collectionLSN: UInt64
    package var tenantLSN: UInt64
}
