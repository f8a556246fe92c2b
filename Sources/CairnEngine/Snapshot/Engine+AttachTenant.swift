import Foundation

extension Engine {
    /// The folder of the data directory where restores into the live database stage tenants.
    static let restoreStagingFolder = "restore-staging"

    /// A new directory (not yet created) inside the data directory for a restore to stage a
    /// tenant in: on the data's file system, so its segment files can be linked in, and removed
    /// at the next open if the restore never finished.
    package func newStagingDirectory() throws -> String {
        let parent = directory + "/" + Engine.restoreStagingFolder
        try fs.createDirectory(parent)
        return parent + "/" + Engine.newFileID()
    }

    /// Attaches tenant `tenant` of the database staged in `staged` (a restore of that one
    /// tenant, proven there) to this database's `collection` as tenant `name`, while readers and
    /// writers of every other partition continue; returns the LSN of the attachment.
    ///
    /// The staged database must be flushed (the tenant all in segment files); they are linked
    /// into this data directory under new ids and made durable. Then one WAL record makes them
    /// a new incarnation of the tenant (replacing a tenant of that name if `replacing`): before
    /// it is durable the files are garbage the next open collects; after it, replay attaches
    /// them. Readers see the tenant whole or not at all. The live collection must store objects
    /// exactly as the staged one does (dimensions, metric, properties, graph settings).
    package func attachTenant(_ tenant: String, stagedIn staged: String, into collection: String, as name: String,
                              replacing: Bool) async throws -> UInt64 {
        let stagedManifest = try Engine.flushedManifest(of: staged, fs: fs)
        guard stagedManifest.catalog.collections.count == 1, let stagedSchema = stagedManifest.catalog.collections.values.first else {
            throw CairnError.invalidArgument("\(staged) does not hold exactly one collection to attach a tenant of")
        }
        let key = PartitionKey(collection: stagedSchema.name, tenant: tenant)
        guard let info = stagedManifest.catalog.tenants[stagedSchema.name]?[tenant],
              let stagedIncarnation = stagedManifest.catalog.incarnation(of: key) else {
            throw CairnError.tenantNotFound(collection: stagedSchema.name, tenant: tenant)
        }
        let live = try catalog.resolve(collection)
        try live.checkStoresObjects(like: stagedSchema)
        guard replacing || catalog.tenants[live.name]?[name] == nil else {
            throw CairnError.tenantExists(collection: live.name, tenant: name)
        }
        let target = PartitionKey(collection: live.name, tenant: name)
        let linked = try linkSegments(stagedManifest.segments.filter { $0.partition == key && $0.incarnation == stagedIncarnation },
                                      from: staged, as: target)
        reachedStep("attach-linked")
        var queued = false
        do {
            if info.state == .active {
                let loaded = try linked.map { try applier.loader.load($0, schema: live) }
                state.withLock { state in for segment in loaded { state.preloadedSegments[segment.record.id] = segment.segment } }
            }
            defer { state.withLock { state in for record in linked { state.preloadedSegments[record.id] = nil } } }
            return try await commits.submit { catalog, lsn in
                let current = try catalog.resolve(live.name)
                try current.checkStoresObjects(like: stagedSchema)
                let incarnation = PartitionIncarnation(collectionLSN: current.createdLSN, tenantLSN: lsn)
                let attachment = TenantAttachment(collection: live.name, tenant: name, state: info.state, replaces: replacing,
                                                  segments: linked.map { record in
                                                      var attached = record
                                                      attached.incarnation = incarnation
                                                      return attached
                                                  })
                try catalog.apply(.attachTenant(attachment), lsn: lsn)
                queued = true
                return .catalog(.attachTenant(attachment))
            }
        } catch {
            // Refused before it was logged: the linked files are nobody's. (Once queued, a
            // failed write may still be durable, so they stay for the next open to account for.)
            if !queued { for record in linked { try? fs.remove(directory + "/" + record.relativePath) } }
            throw error
        }
    }

    /// The manifest of the database in `staged`, which must hold every object in segment
    /// files (flushed: no WAL record after its checkpoint).
    private static func flushedManifest(of staged: String, fs: any FileSystem) throws -> Manifest {
        let manifest = try ManifestStore(fs: fs, directory: staged).loadCurrent()
        let chain = try WALChain(fs: fs, walDirectory: staged + "/wal", manifest: manifest, isLive: false)
        guard try chain.scan({ _, _, _, _ in }).lastLSN == manifest.checkpointLSN else {
            throw CairnError.invalidArgument("\(staged) has WAL records after its checkpoint: flush it before attaching its tenant")
        }
        return manifest
    }

    /// Links the segment files `records` of the database in `staged` into this data directory
    /// as segments of `target` under new ids, durably; returns their records here.
    private func linkSegments(_ records: [Manifest.SegmentRecord], from staged: String,
                              as target: PartitionKey) throws -> [Manifest.SegmentRecord] {
        var linked: [Manifest.SegmentRecord] = []
        do {
            for record in records {
                var renamed = record
                renamed.id = Engine.newFileID()
                renamed.partition = target
                if linked.isEmpty { try fs.createDirectory(FilePaths.parent(of: directory + "/" + renamed.relativePath)) }
                try fs.linkOrCopy(staged + "/" + record.relativePath, to: directory + "/" + renamed.relativePath)
                linked.append(renamed)
            }
            let folder = directory + "/segments/\(target.collection)/\(target.tenant)"
            if !linked.isEmpty { try fs.syncDirectories([folder], upTo: segmentsDirectory) }
            return linked
        } catch {
            for record in linked { try? fs.remove(directory + "/" + record.relativePath) }
            throw error
        }
    }
}

extension CollectionSchema {
    /// Throws unless `other`'s segment files can serve this collection: the same dimensions,
    /// metric, properties, tenancy and graph settings.
    func checkStoresObjects(like other: CollectionSchema) throws {
        var differences: [String] = []
        if dimensions != other.dimensions { differences.append("\(other.dimensions) dimensions (live: \(dimensions))") }
        if metric != other.metric { differences.append("metric \(other.metric) (live: \(metric))") }
        if properties != other.properties { differences.append("other properties") }
        if multiTenant != other.multiTenant { differences.append(other.multiTenant ? "tenants" : "no tenants") }
        if hnsw != other.hnsw { differences.append("other graph settings") }
        guard differences.isEmpty else {
            throw CairnError.invalidArgument("the restored '\(other.name)' has \(differences.joined(separator: ", ")), so its files "
                                             + "cannot join the live collection '\(name)'; restore it into a new directory "
                                             + "with --target and import what you need")
        }
    }
}
