extension Database {
    /// Backs up the database into `repository` while writers continue: a consistent recovery
    /// point of every layer (objects, vectors, graphs, indexes, schemas with ingestion
    /// configuration, tenants in every state, aliases, access control). Files the repository
    /// already holds are not stored again. Restore it with `Repository.restore(_:to:)`.
    ///
    /// A partial `scope` (some collections, or some tenants of one) backs up only what it
    /// covers, with the layers it needs: the schemas, the tenants and their states, the
    /// aliases of the covered collections, and all of access control.
    public func backup(to repository: Repository, scope: PartitionScope = PartitionScope(), tags: [String] = [],
                       progress: ProgressHandler? = nil) async throws -> BackupInfo {
        try await repository.backup(engine, scope: scope, tags: tags, engineVersion: Database.version, progress: progress)
    }
}

extension Database {
    /// Restores collection `collection` of backup `id` (or `latest`) of `repository` into this
    /// database, or only its tenant `tenant`, while the database keeps serving everything else.
    /// It appears in one atomic step, named `name` (default: its own name): a tenant of the live
    /// collection, or a collection. Replacing what has that name needs `replacing`, and a safety
    /// snapshot is taken first (`cairn snapshot rollback` undoes it).
    public func restore(_ collection: String, tenant: String? = nil, from repository: Repository, backup id: String,
                        as name: String? = nil, replacing: Bool = false,
                        progress: ProgressHandler? = nil) async throws -> LiveRestoreReport {
        let backupID = try await repository.backupID(id)
        var snapshot: SnapshotInfo?
        if replacing {
            let catalog = engine.catalog
            let exists = try tenant.map { _ in catalog.tenants[try catalog.resolve(collection).name]?[name ?? tenant!] != nil }
                ?? (catalog.collections[name ?? collection] != nil)
            if exists {
                let what = tenant.map { "tenant \(name ?? $0) of \(collection)" } ?? "collection \(name ?? collection)"
                snapshot = try await engine.takeSafetySnapshot(before: "restore of \(what)")
            }
        }
        do {
            var report = try await repository.restore(backupID, collection: collection, tenant: tenant, into: engine,
                                                      as: name ?? tenant ?? collection, replacing: replacing, progress: progress)
            report.safetySnapshot = snapshot?.id
            return report
        } catch {
            engine.discardSafetySnapshot(snapshot)
            throw error
        }
    }
}
