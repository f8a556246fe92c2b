extension Database {
    /// Backs up the database into `repository` while writers continue: a consistent recovery
    /// point of every layer (objects, vectors, graphs, indexes, schemas with ingestion
    /// configuration, tenants in every state, aliases, access control). Files the repository
    /// already holds are not stored again. Restore it with `Repository.restore(_:to:)`.
    public func backup(to repository: Repository, tags: [String] = [], progress: ProgressHandler? = nil) async throws -> BackupInfo {
        try await repository.backup(engine, tags: tags, engineVersion: Database.version, progress: progress)
    }
}
