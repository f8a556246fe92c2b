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
    /// Restores tenant `tenant` of `collection` from backup `id` (or `latest`) of `repository`
    /// into this database while it keeps serving everything else; it appears as tenant `name`
    /// (default: its own name) in one atomic step. Replacing a tenant that exists needs
    /// `replacing`, and a safety snapshot is taken first (`cairn snapshot rollback` undoes it).
    public func restoreTenant(_ tenant: String, of collection: String, from repository: Repository, backup id: String,
                              as name: String? = nil, replacing: Bool = false,
                              progress: ProgressHandler? = nil) async throws -> LiveRestoreReport {
        let backupID = try await repository.backupID(id)
        let name = name ?? tenant
        let live = try self.collection(named: collection)
        var snapshot: SnapshotInfo?
        if replacing, try tenants(of: live.name).contains(where: { $0.name == name }) {
            snapshot = try await engine.takeSafetySnapshot(before: "restore of tenant \(name) of \(live.name)")
        }
        do {
            var report = try await repository.restore(backupID, tenant: tenant, of: live.name, into: engine, as: name,
                                                      replacing: replacing, progress: progress)
            report.safetySnapshot = snapshot?.id
            return report
        } catch {
            engine.discardSafetySnapshot(snapshot)
            throw error
        }
    }
}
