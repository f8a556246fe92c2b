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
