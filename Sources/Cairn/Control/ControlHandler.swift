import CairnEngine
import Foundation

/// Carries out control requests on an open database: the one place that maps a request to the
/// database's API, whatever transport brought it (the control socket now, HTTP later).
struct ControlHandler: Sendable {
    let database: Database

    /// The reply to `request`, encoded as JSON text of its result type. What comes before it (an
    /// export's chunks, a backup's progress) goes to `stream`; without one, an export is refused.
    func handle(_ request: ControlRequest, stream: ControlReplyStream? = nil) async throws -> String {
        switch request {
        case .count, .get, .search:
            return try handleAtOnce(request)! // the short reads handleAtOnce answers
        case let .export(collection, tenant, filter, withMetadata):
            guard let stream else { throw ControlError(kind: "protocol", message: "an export streams its reply: use RemoteDatabase.stream") }
            let export = try database.export(collection, tenant: tenant, filter: try filter.map { try database.parseFilter($0, for: collection) })
            return try encode(try await runBlocking { try ObjectJSON.writeLines(of: export, withMetadata: withMetadata, write: stream.chunk) })
        case .stats:
            return try encode(database.stats())
        case .collections:
            return try encode(try database.collections().map { schema in
                CollectionListing(schema: schema, objects: schema.multiTenant ? nil : try database.count(schema.name),
                                  tenants: schema.multiTenant ? try database.tenants(of: schema.name).count : 0)
            })
        case let .collection(name):
            return try encode(try database.collection(named: name))
        case .flush:
            try await database.flush()
            return try encode(database.stats())
        case let .createSnapshot(label):
            return try encode(try await database.createSnapshot(label: label))
        case .snapshots:
            return try encode(database.snapshots())
        case let .beginStorageSnapshot(label, timeout):
            return try encode(try await database.beginStorageSnapshot(label: label, timeout: timeout).label)
        case .endStorageSnapshot:
            return try encode(try await database.endStorageSnapshot())
        case let .importSettings(collection):
            return try encode(try await database.importSettings(for: collection))
        case let .validate(collection, tenant, objects):
            try await database.validate(objects.objects, collection: collection, tenant: tenant)
            return try encode(objects.objects.count)
        case let .put(collection, tenant, objects):
            try await database.put(objects.objects, into: collection, tenant: tenant)
            return try encode(objects.objects.count)
        case let .safetySnapshot(operation):
            return try encode(try await database.takeSafetySnapshot(before: operation))
        case let .delete(collection, tenant, ids):
            let missing = try ids.filter { try database.get($0, from: collection, tenant: tenant) == nil }
            let existing = ids.filter { !missing.contains($0) }
            if !existing.isEmpty { try await database.delete(existing, from: collection, tenant: tenant) }
            return try encode(DeleteOutcome(deleted: existing, notFound: missing))
        case let .createCollection(schema):
            try await database.createCollection(schema)
            return try encode(try database.collection(named: schema.name))
        case let .dropCollection(name):
            try await database.dropCollection(name)
            return try encode(true)
        case let .configureCollection(name, ingestion, sources):
            try await database.configureCollection(name, ingestion: ingestion, sources: sources)
            return try encode(try database.collection(named: name))
        case let .tuneCollection(name, efSearch, quantization):
            try await database.tuneCollection(name, efSearch: efSearch, quantization: quantization)
            return try encode(try database.collection(named: name))
        case let .addTenant(collection, tenant):
            try await database.addTenant(tenant, to: collection)
            return try encode(true)
        case let .removeTenant(collection, tenant):
            try await database.removeTenant(tenant, from: collection)
            return try encode(true)
        case let .setTenantState(collection, tenant, state):
            try await database.setTenantState(tenant, of: collection, to: state)
            return try encode(true)
        case let .tenants(collection):
            return try encode(try database.tenants(of: collection).map { tenant in
                TenantListing(tenant: tenant, objects: tenant.state == .active ? try database.count(collection, tenant: tenant.name) : nil)
            })
        case let .setAlias(alias, collection):
            try await database.setAlias(alias, to: collection)
            return try encode(true)
        case let .removeAlias(alias):
            try await database.removeAlias(alias)
            return try encode(true)
        case .aliases:
            return try encode(database.aliases())
        case let .snapshot(id):
            return try encode(try database.snapshot(id))
        case let .backup(path, credential, scope, tags):
            let repository = try await Repository.open(Repository.localBackend(at: path), credential: credential)
            return try encode(try await database.backup(to: repository, scope: scope, tags: tags, progress: stream?.progress))
        case let .restoreInto(path, credential, backup, collection, tenant, name, replacing):
            let repository = try await Repository.open(Repository.localBackend(at: path), credential: credential)
            return try encode(try await database.restore(collection, tenant: tenant, from: repository, backup: backup,
                                                         as: name, replacing: replacing, progress: stream?.progress))
        case let .deleteSnapshot(id):
            let usage = try database.snapshot(id)
            try database.deleteSnapshot(id)
            return try encode(usage.exclusiveBytes)
        }
    }

    /// The reply to a short read (`count`, `get`, `search`), computed on the calling thread
    /// without waiting: a transport answers these where the request arrived, with no hop to
    /// another thread. Nil for every other request.
    func handleAtOnce(_ request: ControlRequest) throws -> String? {
        switch request {
        case let .count(collection, tenant, filter):
            return try encode(try database.count(collection, tenant: tenant, filter: try filter.map { try database.parseFilter($0, for: collection) }))
        case let .get(collection, tenant, id):
            return try encode(try database.get(id, from: collection, tenant: tenant))
        case let .search(collection, tenant, vector, limit, filter, ef, withVectors):
            let hits = try database.search(vector.values, in: collection, tenant: tenant, limit: limit,
                                           filter: try filter.map { try database.parseFilter($0, for: collection) }, ef: ef,
                                           fields: withVectors == false ? [.properties, .timestamps] : .all)
            return try encode(HitBatch(hits))
        default:
            return nil
        }
    }

    fileprivate func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}

/// Where a request sends what comes before its result: the chunks of a streamed reply and
/// progress reports of a long operation.
struct ControlReplyStream: Sendable {
    let chunk: @Sendable ([UInt8]) throws -> Void
    let progress: ProgressHandler
}
