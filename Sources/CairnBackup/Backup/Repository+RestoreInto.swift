import CairnEngine
import Foundation

/// What a restore of a collection or one tenant into the live database did.
public struct LiveRestoreReport: Codable, Sendable, Hashable {
    /// The restore into the staging directory, with what it proved there.
    public var restore: RestoreReport
    /// The collection as it is named in the live database now.
    public var collection: String
    /// The tenant as it is named there now (nil: the whole collection was restored).
    public var tenant: String?
    /// Whether a tenant or collection of that name was replaced.
    public var replaced: Bool
    /// The snapshot taken before something was replaced (`cairn snapshot rollback` undoes it).
    public var safetySnapshot: String?
    /// The LSN of the WAL record that attached it.
    public var lsn: UInt64
    public var seconds: Double
}

extension Repository {
    /// Restores collection `collection` of backup `id`, or only its tenant `tenant`, into the
    /// live database `engine` while it keeps serving everything else: a tenant joins the live
    /// collection of that name (or alias) as tenant `name`; a collection becomes collection
    /// `name`. It is restored, flushed and proven in a staging directory inside the data
    /// directory, then attached by one WAL record: a crash at any point leaves no trace of it or
    /// all of it. What is named `name` must not exist unless `replacing`. Source files are not
    /// restored (use `--target`).
    package func restore(_ id: String, collection: String, tenant: String?, into engine: Engine, as name: String,
                         replacing: Bool, fileSystem fs: any FileSystem = LocalFileSystem(),
                         progress: ProgressHandler? = nil) async throws -> LiveRestoreReport {
        let started = ContinuousClock.now
        let catalog = engine.catalog
        let liveName: String
        let replaces: Bool
        if tenant != nil {
            let live = try catalog.resolve(collection)
            guard live.multiTenant else { throw CairnError.tenantsNotEnabled(collection: live.name) }
            try Naming.check(name, kind: "tenant")
            (liveName, replaces) = (live.name, catalog.tenants[live.name]?[name] != nil)
            guard replacing || !replaces else { throw Self.exists("collection '\(live.name)' already has a tenant '\(name)'") }
        } else {
            try Naming.check(name, kind: "collection")
            guard catalog.aliases[name] == nil else { throw CairnError.nameTaken(name) }
            (liveName, replaces) = (name, catalog.collections[name] != nil)
            guard replacing || !replaces else { throw Self.exists("the database already has a collection '\(name)'") }
        }
        let staging = try engine.newStagingDirectory()
        defer {
            try? fs.removeTree(staging)
            fs.removeEmptyDirectory(FilePaths.parent(of: staging))
        }
        let scope = PartitionScope(collections: [collection], tenants: tenant.map { [$0] })
        let report = try await restore(id, to: staging, scope: scope, fileSystem: fs, sources: false, flushing: true, progress: progress)
        engine.reachedStep("attach-staged")
        let lsn = if let tenant {
            try await engine.attachTenant(tenant, stagedIn: staging, into: liveName, as: name, replacing: replaces)
        } else {
            try await engine.attachCollection(stagedIn: staging, as: name, replacing: replaces)
        }
        engine.reachedStep("attach-logged")
        return LiveRestoreReport(restore: report, collection: liveName, tenant: tenant.map { _ in name }, replaced: replaces,
                                 safetySnapshot: nil, lsn: lsn, seconds: (ContinuousClock.now - started).milliseconds / 1000)
    }

    private static func exists(_ what: String) -> CairnError {
        .invalidArgument("\(what): restore it under another name (--as NEW), or replace it (--replace; a safety snapshot is taken first)")
    }
}
