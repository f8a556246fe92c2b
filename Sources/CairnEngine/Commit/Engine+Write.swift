import CairnVector
import Foundation

extension Engine {
    /// Writes a batch of objects into one partition atomically: every object is validated first,
    /// and if any is invalid the whole batch is rejected with each object's error. Returns the LSN
    /// once the batch is durable and visible.
    @discardableResult
    package func put(_ objects: [NewObject], collection: String, tenant: String? = nil) async throws -> UInt64 {
        guard !objects.isEmpty else { throw CairnError.invalidArgument("a batch needs at least one object") }
        let time = Clock.milliseconds()
        return try await commits.submit { catalog, _ in
            let (key, versions) = try Engine.validatedVersions(of: objects, collection: collection, tenant: tenant,
                                                               catalog: catalog, time: time)
            return .putObjects(key, versions)
        }
    }

    /// Checks a batch exactly as `put` would, without writing anything.
    package func validate(_ objects: [NewObject], collection: String, tenant: String? = nil) throws {
        _ = try Engine.validatedVersions(of: objects, collection: collection, tenant: tenant, catalog: catalog,
                                         time: Clock.milliseconds())
    }

    private static func validatedVersions(of objects: [NewObject], collection: String, tenant: String?, catalog: Catalog,
                                          time: Int64) throws -> (PartitionKey, [ObjectVersion]) {
        let key = try catalog.partition(collection, tenant: tenant)
        let schema = catalog.collections[key.collection]!
        var versions: [ObjectVersion] = []
        versions.reserveCapacity(objects.count)
        var errors: [ObjectValidationError] = []
        var seen = Set<UUID>()
        for (index, object) in objects.enumerated() {
            do {
                guard seen.insert(object.id).inserted else {
                    throw CairnError.invalidArgument("the id appears twice in the batch")
                }
                versions.append(try schema.validated(object, at: time))
            } catch let error as CairnError {
                errors.append(ObjectValidationError(index: index, id: object.id, error: error))
            }
        }
        guard errors.isEmpty else { throw CairnError.batchRejected(errors) }
        return (key, versions)
    }

    /// Deletes objects by id (ids that do not exist are ignored). Returns the LSN.
    @discardableResult
    package func delete(_ ids: [UUID], collection: String, tenant: String? = nil) async throws -> UInt64 {
        guard !ids.isEmpty else { throw CairnError.invalidArgument("name at least one id to delete") }
        let time = Clock.milliseconds()
        return try await commits.submit { catalog, _ in
            .deleteObjects(try catalog.partition(collection, tenant: tenant), ids, time: time)
        }
    }

    @discardableResult
    func change(_ change: CatalogChange) async throws -> UInt64 {
        try await commits.submit { catalog, lsn in
            try catalog.apply(change, lsn: lsn)
            return .catalog(change)
        }
    }

    @discardableResult
    package func createCollection(_ schema: CollectionSchema) async throws -> UInt64 {
        // Checked here, not when the log is replayed: collections created before the rule keep opening.
        if let reserved = schema.properties.first(where: { CollectionSchema.filterKeywords.contains($0.name.lowercased()) }) {
            throw CairnError.invalidName(kind: "property", name: reserved.name,
                                         reason: "is a word of the filter language (\(CollectionSchema.filterKeywords.sorted().joined(separator: ", ")))")
        }
        return try await change(.createCollection(schema))
    }

    @discardableResult
    package func dropCollection(_ name: String) async throws -> UInt64 {
        let resolved = try catalog.resolve(name).name
        return try await change(.dropCollection(resolved))
    }

    /// Replaces the ingestion configuration and source paths of `collection` (name or alias).
    @discardableResult
    package func configureCollection(_ collection: String, ingestion: JSONValue?, sources: [String]) async throws -> UInt64 {
        try await change(.configureCollection(collection: try catalog.resolve(collection).name, ingestion: ingestion, sources: sources))
    }

    /// Replaces the search settings of `collection` (name or alias): its default beam and the
    /// quantization of segments written from now on.
    @discardableResult
    package func tuneCollection(_ collection: String, efSearch: Int, quantization: VectorQuantization?) async throws -> UInt64 {
        try await change(.tuneCollection(collection: try catalog.resolve(collection).name, efSearch: efSearch, quantization: quantization))
    }

    @discardableResult
    package func addTenant(_ tenant: String, to collection: String) async throws -> UInt64 {
        try await change(.addTenant(collection: collection, tenant: tenant))
    }

    @discardableResult
    package func removeTenant(_ tenant: String, from collection: String) async throws -> UInt64 {
        try await change(.removeTenant(collection: collection, tenant: tenant))
    }

    @discardableResult
    package func setTenantState(_ tenant: String, of collection: String, to state: TenantState) async throws -> UInt64 {
        try await change(.setTenantState(collection: collection, tenant: tenant, state: state))
    }

    @discardableResult
    package func setAlias(_ alias: String, to collection: String) async throws -> UInt64 {
        try await change(.setAlias(alias: alias, collection: collection))
    }

    @discardableResult
    package func removeAlias(_ alias: String) async throws -> UInt64 { try await change(.removeAlias(alias)) }

    @discardableResult
    package func putRole(_ role: Role) async throws -> UInt64 { try await change(.putRole(role)) }

    @discardableResult
    package func deleteRole(_ name: String) async throws -> UInt64 { try await change(.deleteRole(name)) }

    @discardableResult
    package func putUser(_ user: User) async throws -> UInt64 { try await change(.putUser(user)) }

    @discardableResult
    package func deleteUser(_ name: String) async throws -> UInt64 { try await change(.deleteUser(name)) }

    /// Flushes every memtable to segments and moves the checkpoint to the newest LSN.
    package func flush() async throws { try await maintenance.run(flush: true) }

    /// Merges segments of partitions that have reached the compaction threshold.
    package func compact() async throws { try await maintenance.run(flush: false) }

    /// Links every vector still queued for a memtable's live graph now, instead of waiting for
    /// the background indexer (for benchmarks and tests that want the graph complete).
    package func finishIndexing() async throws {
        let graphs = state.withLock { state in state.partitions.values.flatMap { $0.memtablesNewestFirst.map(\.graph) } }
        try await runBlocking { [options] in for graph in graphs { graph.linkAll(threads: options.graphBuildThreads) } }
    }
}
