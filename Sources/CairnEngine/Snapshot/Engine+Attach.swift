import Foundation

extension Engine {
    /// The folder of the data directory where restores into the live database stage partitions.
    static let restoreStagingFolder = "restore-staging"

    /// A new directory (not yet created) inside the data directory for a restore to stage
    /// partitions in: on the data's file system, so their segment files can be linked in, and
    /// removed at the next open if the restore never finished.
    package func newStagingDirectory() throws -> String {
        let parent = directory + "/" + Engine.restoreStagingFolder
        try fs.createDirectory(parent)
        return parent + "/" + Engine.newFileID()
    }

    /// Attaches tenant `tenant` of the database staged in `staged` (a restore of that one
    /// tenant, flushed and proven there) to this database's `collection` as tenant `name`, while
    /// readers and writers of every other partition continue; returns the LSN of the attachment.
    /// The live collection must store objects exactly as the staged one does (dimensions,
    /// metric, properties, graph settings). See `attach(_:)` for how it is made atomic.
    package func attachTenant(_ tenant: String, stagedIn staged: String, into collection: String, as name: String,
                              replacing: Bool) async throws -> UInt64 {
        let (stagedManifest, stagedSchema) = try Engine.stagedCollection(in: staged, fs: fs)
        guard let info = stagedManifest.catalog.tenants[stagedSchema.name]?[tenant] else {
            throw CairnError.tenantNotFound(collection: stagedSchema.name, tenant: tenant)
        }
        let live = try catalog.resolve(collection)
        try live.checkStoresObjects(like: stagedSchema)
        guard replacing || catalog.tenants[live.name]?[name] == nil else { throw CairnError.tenantExists(collection: live.name, tenant: name) }
        let staging = StagedPartitions(manifest: stagedManifest, collection: stagedSchema.name, tenants: [(tenant, name, info.state)])
        return try await attach(staging, from: staged, into: live.name, schema: live) { catalog, lsn in
            let current = try catalog.resolve(live.name)
            try current.checkStoresObjects(like: stagedSchema)
            return (PartitionIncarnation(collectionLSN: current.createdLSN, tenantLSN: lsn), nil, replacing)
        }
    }

    /// Attaches the collection of the database staged in `staged` (a restore of that one
    /// collection, flushed and proven there) to this database as collection `name`, with every
    /// tenant in its state, replacing a collection of that name if `replacing` (its aliases stay).
    package func attachCollection(stagedIn staged: String, as name: String, replacing: Bool) async throws -> UInt64 {
        let (stagedManifest, stagedSchema) = try Engine.stagedCollection(in: staged, fs: fs)
        try Naming.check(name, kind: "collection")
        guard replacing || catalog.collections[name] == nil else { throw CairnError.collectionExists(name) }
        var schema = stagedSchema
        schema.name = name
        let tenants = stagedSchema.multiTenant
            ? (stagedManifest.catalog.tenants[stagedSchema.name] ?? [:]).values.sorted { $0.name < $1.name }.map { ($0.name, $0.name, $0.state) }
            : [(PartitionKey.defaultTenant, PartitionKey.defaultTenant, TenantState.active)]
        let staging = StagedPartitions(manifest: stagedManifest, collection: stagedSchema.name, tenants: tenants)
        return try await attach(staging, from: staged, into: name, schema: schema) { catalog, lsn in
            (PartitionIncarnation(collectionLSN: lsn, tenantLSN: lsn), schema, replacing && catalog.collections[name] != nil)
        }
    }

    /// The partitions of a staged database to attach: (staged tenant, name here, state).
    private struct StagedPartitions {
        var manifest: Manifest
        var collection: String
        var tenants: [(staged: String, name: String, state: TenantState)]
    }

    /// Links the staged partitions' segment files into this data directory under new ids and
    /// makes them durable, then logs one record that makes them the partitions of
    /// `collection` (`incarnation` says which incarnation, from the catalog and LSN the record
    /// gets; with a schema, the record creates the collection). Before the record is durable the
    /// files are garbage the next open collects; after it, replay attaches them. Applying it
    /// swaps the version readers see, so the partitions appear whole in one step.
    private func attach(_ staging: StagedPartitions, from staged: String, into collection: String, schema: CollectionSchema,
                        incarnation: @escaping (Catalog, UInt64) throws -> (PartitionIncarnation, CollectionSchema?, Bool)) async throws -> UInt64 {
        var linked: [(name: String, state: TenantState, segments: [Manifest.SegmentRecord])] = []
        var queued = false
        do {
            for tenant in staging.tenants {
                let key = PartitionKey(collection: staging.collection, tenant: tenant.staged)
                let records = staging.manifest.segments.filter { $0.partition == key && $0.incarnation == staging.manifest.catalog.incarnation(of: key) }
                linked.append((tenant.name, tenant.state, try linkSegments(records, from: staged, as: PartitionKey(collection: collection, tenant: tenant.name))))
            }
            reachedStep("attach-linked")
            let loaded = try linked.filter { $0.state == .active }.flatMap(\.segments).map { try applier.loader.load($0, schema: schema) }
            state.withLock { state in for segment in loaded { state.preloadedSegments[segment.record.id] = segment.segment } }
            defer { state.withLock { state in for segment in loaded { state.preloadedSegments[segment.record.id] = nil } } }
            return try await commits.submit { catalog, lsn in
                let (incarnation, createdSchema, replaces) = try incarnation(catalog, lsn)
                let attachment = PartitionAttachment(collection: collection, schema: createdSchema, tenants: linked.map { tenant in
                    PartitionAttachment.Tenant(name: tenant.name, state: tenant.state, segments: tenant.segments.map { record in
                        var attached = record
                        attached.incarnation = incarnation
                        return attached
                    })
                }, replaces: replaces)
                try catalog.apply(.attach(attachment), lsn: lsn)
                queued = true
                return .catalog(.attach(attachment))
            }
        } catch {
            // Refused before it was logged: the linked files are nobody's. (Once queued, a
            // failed write may still be durable, so they stay for the next open to account for.)
            if !queued { for record in linked.flatMap(\.segments) { try? fs.remove(directory + "/" + record.relativePath) } }
            throw error
        }
    }

    /// The manifest of the database in `staged` and its one collection. The database must hold
    /// every object in segment files (flushed: no WAL record after its checkpoint).
    private static func stagedCollection(in staged: String, fs: any FileSystem) throws -> (Manifest, CollectionSchema) {
        let manifest = try ManifestStore(fs: fs, directory: staged).loadCurrent()
        let chain = try WALChain(fs: fs, walDirectory: staged + "/wal", manifest: manifest, isLive: false)
        guard try chain.scan({ _, _, _, _ in }).lastLSN == manifest.checkpointLSN else {
            throw CairnError.invalidArgument("\(staged) has WAL records after its checkpoint: flush it before attaching its partitions")
        }
        guard manifest.catalog.collections.count == 1, let schema = manifest.catalog.collections.values.first else {
            throw CairnError.invalidArgument("\(staged) does not hold exactly one collection to attach")
        }
        return (manifest, schema)
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
