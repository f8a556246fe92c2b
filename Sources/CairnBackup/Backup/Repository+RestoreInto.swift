import CairnEngine
import Foundation

/// What a restore of one tenant into the live database did.
public struct LiveRestoreReport: Codable, Sendable, Hashable {
    /// The restore of the tenant into the staging directory, with what it proved there.
    public var restore: RestoreReport
    /// The live collection and the name the tenant has there now.
    public var collection: String
    public var tenant: String
    /// Whether a tenant of that name was replaced.
    public var replaced: Bool
    /// The snapshot taken before a tenant was replaced (`cairn snapshot rollback` undoes it).
    public var safetySnapshot: String?
    /// The LSN of the WAL record that attached the tenant.
    public var lsn: UInt64
    public var seconds: Double
}

extension Repository {
    /// Restores tenant `tenant` of collection `collection` from backup `id` into the live
    /// database `engine`, as tenant `name` of its collection of that name (or alias), while the
    /// database keeps serving every other partition. The tenant is restored and proven in a
    /// staging directory inside the data directory, then attached in one WAL record: a crash at
    /// any point leaves no trace of it or the whole tenant. A tenant named `name` must not exist
    /// unless `replacing`. The collections' source files are not restored (use `--target`).
    package func restore(_ id: String, tenant: String, of collection: String, into engine: Engine, as name: String,
                         replacing: Bool, fileSystem fs: any FileSystem = LocalFileSystem(),
                         progress: ProgressHandler? = nil) async throws -> LiveRestoreReport {
        let started = ContinuousClock.now
        let live = try engine.catalog.resolve(collection)
        guard live.multiTenant else { throw CairnError.tenantsNotEnabled(collection: live.name) }
        try Naming.check(name, kind: "tenant")
        guard replacing || engine.catalog.tenants[live.name]?[name] == nil else {
            throw CairnError.invalidArgument("collection '\(live.name)' already has a tenant '\(name)': restore it under another "
                                             + "name (--as NEW), or replace it (--replace; a safety snapshot is taken first)")
        }
        let replaces = engine.catalog.tenants[live.name]?[name] != nil
        let staging = try engine.newStagingDirectory()
        defer {
            try? fs.removeTree(staging)
            fs.removeEmptyDirectory(FilePaths.parent(of: staging))
        }
        let report = try await restore(id, to: staging, scope: PartitionScope(collections: [collection], tenants: [tenant]),
                                       fileSystem: fs, sources: false, flushing: true, progress: progress)
        engine.reachedStep("attach-staged")
        let lsn = try await engine.attachTenant(tenant, stagedIn: staging, into: live.name, as: name, replacing: replaces)
        engine.reachedStep("attach-logged")
        return LiveRestoreReport(restore: report, collection: live.name, tenant: name, replaced: replaces, safetySnapshot: nil,
                                 lsn: lsn, seconds: (ContinuousClock.now - started).milliseconds / 1000)
    }
}
