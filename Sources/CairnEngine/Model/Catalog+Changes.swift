extension Catalog {
    /// Applies a catalog change made at `lsn`, checking it first. The commit path calls this on
    /// the newest catalog to validate a change; recovery calls it again on the applied catalog.
    mutating func apply(_ change: CatalogChange, lsn: UInt64) throws {
        switch change {
        case var .createCollection(schema):
            try schema.validate()
            guard collections[schema.name] == nil else { throw CairnError.collectionExists(schema.name) }
            guard aliases[schema.name] == nil else { throw CairnError.nameTaken(schema.name) }
            schema.createdLSN = lsn
            collections[schema.name] = schema
            if schema.multiTenant { tenants[schema.name] = [:] }
        case let .dropCollection(name):
            guard collections.removeValue(forKey: name) != nil else { throw CairnError.collectionNotFound(name) }
            tenants[name] = nil
            aliases = aliases.filter { $0.value != name }
        case let .configureCollection(collection, ingestion, sources):
            let name = try resolve(collection).name
            try CollectionSchema.validate(sources: sources ?? [])
            collections[name]!.ingestion = ingestion
            collections[name]!.sources = sources?.isEmpty == true ? nil : sources
        case let .tuneCollection(collection, efSearch, quantization):
            var schema = try resolve(collection)
            schema.hnsw.efSearch = efSearch
            schema.quantization = quantization
            try schema.validate()
            collections[schema.name] = schema
        case let .addTenant(collection, tenant):
            try Naming.check(tenant, kind: "tenant")
            let schema = try requireMultiTenant(collection)
            guard tenants[schema.name]?[tenant] == nil else {
                throw CairnError.tenantExists(collection: schema.name, tenant: tenant)
            }
            tenants[schema.name, default: [:]][tenant] = TenantInfo(name: tenant, state: .active, createdLSN: lsn)
        case let .attach(attachment):
            try attach(attachment, lsn: lsn)
        case let .removeTenant(collection, tenant):
            let schema = try requireMultiTenant(collection)
            guard tenants[schema.name]?.removeValue(forKey: tenant) != nil else {
                throw CairnError.tenantNotFound(collection: schema.name, tenant: tenant)
            }
        case let .setTenantState(collection, tenant, state):
            let schema = try requireMultiTenant(collection)
            guard tenants[schema.name]?[tenant] != nil else {
                throw CairnError.tenantNotFound(collection: schema.name, tenant: tenant)
            }
            tenants[schema.name]![tenant]!.state = state
        case let .setAlias(alias, collection):
            try Naming.check(alias, kind: "alias")
            guard collections[alias] == nil else { throw CairnError.nameTaken(alias) }
            if let target = aliases[collection] {
                throw CairnError.invalidArgument("'\(collection)' is an alias (of '\(target)'), and an alias points at a collection: "
                                                 + "point '\(alias)' at '\(target)'")
            }
            guard collections[collection] != nil else { throw CairnError.collectionNotFound(collection) }
            aliases[alias] = collection
        case let .removeAlias(alias):
            guard aliases.removeValue(forKey: alias) != nil else { throw CairnError.aliasNotFound(alias) }
        case let .putRole(role):
            try Naming.check(role.name, kind: "role")
            roles[role.name] = role
        case let .deleteRole(name):
            guard roles.removeValue(forKey: name) != nil else { throw CairnError.roleNotFound(name) }
            for user in users.keys { users[user]!.roles.removeAll { $0 == name } }
        case let .putUser(user):
            try Naming.check(user.name, kind: "user")
            if let missing = user.roles.first(where: { roles[$0] == nil }) { throw CairnError.roleNotFound(missing) }
            users[user.name] = user
        case let .deleteUser(name):
            guard users.removeValue(forKey: name) != nil else { throw CairnError.userNotFound(name) }
        }
    }

    /// Adds the attached collection or tenant as a new incarnation created at `lsn`, replacing
    /// what has its name if the attachment says so; checks that its segments belong to it.
    private mutating func attach(_ attachment: PartitionAttachment, lsn: UInt64) throws {
        if var schema = attachment.schema {
            try schema.validate()
            guard attachment.replaces || collections[schema.name] == nil else { throw CairnError.collectionExists(schema.name) }
            guard aliases[schema.name] == nil else { throw CairnError.nameTaken(schema.name) }
            schema.createdLSN = lsn
            collections[schema.name] = schema
            tenants[schema.name] = schema.multiTenant ? [:] : nil
            guard schema.multiTenant || attachment.tenants.map(\.name) == [PartitionKey.defaultTenant] else {
                throw CairnError.invalidArgument("the attachment of \(schema.name) names tenants of a collection without tenants")
            }
        } else {
            let schema = try requireMultiTenant(attachment.collection)
            guard attachment.tenants.count == 1, attachment.replaces || tenants[schema.name]?[attachment.tenants[0].name] == nil else {
                throw CairnError.tenantExists(collection: schema.name, tenant: attachment.tenants.first?.name ?? "")
            }
        }
        let name = attachment.collection
        for tenant in attachment.tenants {
            if collections[name]!.multiTenant {
                try Naming.check(tenant.name, kind: "tenant")
                tenants[name, default: [:]][tenant.name] = TenantInfo(name: tenant.name, state: tenant.state, createdLSN: lsn)
            }
            let key = PartitionKey(collection: name, tenant: tenant.name)
            guard tenant.segments.allSatisfy({ $0.partition == key && $0.incarnation == incarnation(of: key) }) else {
                throw CairnError.invalidArgument("the attachment of \(key) names segments of another partition")
            }
        }
    }

    private func requireMultiTenant(_ name: String) throws -> CollectionSchema {
        let schema = try resolve(name)
        guard schema.multiTenant else { throw CairnError.tenantsNotEnabled(collection: schema.name) }
        return schema
    }
}
