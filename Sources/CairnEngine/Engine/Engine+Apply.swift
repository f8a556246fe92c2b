import Foundation

/// Applies durable records to the state readers see.
struct StateApplier: Sendable {
    let loader: SegmentLoader
    /// Links the vectors that writes add to memtables into their live graphs.
    let indexer: GraphIndexer

    /// Applies one durable record to the state readers see: during recovery (replay) and in the
    /// commit pipeline. The same code runs in both places, so replay rebuilds exactly what
    /// readers saw before a crash.
    func apply(_ mutation: Mutation, lsn: UInt64, to state: inout EngineState) throws {
        defer { state.appliedLSN = lsn }
        switch mutation {
        case let .catalog(change):
            try state.catalog.apply(change, lsn: lsn)
            try applyPartitionEffects(of: change, lsn: lsn, to: &state)
        case let .putObjects(key, versions):
            let partition = try state.view(of: key)
            var propertyBytes = 0
            for version in versions {
                let createdAt = partition.hideOlderVersions(of: version.id) ?? version.updatedAt
                propertyBytes += partition.data.memtable.put(version, createdAt: createdAt)
            }
            indexer.schedule(partition.data.memtable.graph)
            state.memtableBytes += versions.count * (96 + partition.schema.dimensions * 4) + propertyBytes
        case let .deleteObjects(key, ids, time):
            let partition = try state.view(of: key)
            for id in ids {
                _ = partition.hideOlderVersions(of: id)
                partition.data.memtable.delete(id, at: time)
            }
            state.memtableBytes += ids.count * 96
        }
    }

    /// Creates, removes, loads or unloads partitions as a catalog change requires.
    private func applyPartitionEffects(of change: CatalogChange, lsn: UInt64, to state: inout EngineState) throws {
        switch change {
        case let .createCollection(schema):
            if !schema.multiTenant { try addPartition(PartitionKey(collection: schema.name, tenant: PartitionKey.defaultTenant), to: &state) }
        case let .dropCollection(name):
            removePartitions(of: name, from: &state)
            try state.refreshVersion(loader: loader)
        case let .addTenant(collection, tenant):
            try addPartition(PartitionKey(collection: try state.catalog.resolve(collection).name, tenant: tenant), to: &state)
        case let .removeTenant(collection, tenant):
            let name = (try? state.catalog.resolve(collection).name) ?? collection
            state.partitions[PartitionKey(collection: name, tenant: tenant)]?.discardUnlinkedVectors()
            state.partitions[PartitionKey(collection: name, tenant: tenant)] = nil
            try state.refreshVersion(loader: loader)
        case let .setTenantState(collection, tenant, tenantState):
            let key = PartitionKey(collection: try state.catalog.resolve(collection).name, tenant: tenant)
            guard let partition = state.partitions[key], partition.isLoaded != (tenantState == .active) else { return }
            partition.isLoaded = tenantState == .active
            do { try state.refreshVersion(loader: loader) } catch {
                partition.isLoaded.toggle()
                throw error
            }
            if partition.isLoaded { state.view(of: partition).recomputeDeadRows() }
        case let .attach(attachment):
            let name = attachment.collection
            if attachment.schema != nil { removePartitions(of: name, from: &state) }
            var attached: [PartitionData] = []
            for tenant in attachment.tenants {
                let key = PartitionKey(collection: name, tenant: tenant.name)
                state.partitions[key]?.discardUnlinkedVectors()
                try addPartition(key, to: &state)
                state.partitions[key]!.isLoaded = tenant.state == .active
                attached.append(state.partitions[key]!)
            }
            // Files the restore mapped and checked before it logged the record (none in replay).
            let mapped = Dictionary(uniqueKeysWithValues: attachment.segments.compactMap { record in
                state.preloadedSegments[record.id].map { (record.id, LoadedSegment(record: record, segment: $0)) }
            })
            state.version = try Version(manifest: state.version.manifest.attaching(attachment.segments, lsn: lsn), reusing: state.version,
                                        partitions: state.partitions, mapped: mapped, loader: loader)
            for partition in attached where partition.isLoaded { state.view(of: partition).recomputeDeadRows() }
        case let .tuneCollection(collection, _, _):
            let schema = try state.catalog.resolve(collection)
            for (key, partition) in state.partitions where key.collection == schema.name { partition.schema = schema }
        case .configureCollection, .setAlias, .removeAlias, .putRole, .deleteRole, .putUser, .deleteUser:
            break
        }
    }

    /// Forgets every partition of collection `name` (its segments go at the next checkpoint).
    private func removePartitions(of name: String, from state: inout EngineState) {
        for (key, partition) in state.partitions where key.collection == name { partition.discardUnlinkedVectors() }
        state.partitions = state.partitions.filter { $0.key.collection != name }
    }

    private func addPartition(_ key: PartitionKey, to state: inout EngineState) throws {
        guard let schema = state.catalog.collections[key.collection], let incarnation = state.catalog.incarnation(of: key) else {
            throw CairnError.tenantNotFound(collection: key.collection, tenant: key.tenant)
        }
        state.partitions[key] = PartitionData(key: key, incarnation: incarnation, schema: schema, isLoaded: true)
    }
}
