import Foundation

/// Carries out control requests on an open database: the one place that maps a request to the
/// database's API, whatever transport brought it (the control socket now, HTTP later).
struct ControlHandler: Sendable {
    let database: Database

    /// The reply to `request`, encoded as JSON text of its result type.
    func handle(_ request: ControlRequest) async throws -> String {
        switch request {
        case let .count(collection, tenant, filter):
            return try encode(try database.count(collection, tenant: tenant, filter: try filter.map { try database.parseFilter($0, for: collection) }))
        case let .get(collection, tenant, id):
            return try encode(try database.get(id, from: collection, tenant: tenant))
        case let .search(collection, tenant, vector, limit, filter, ef):
            return try encode(try database.search(vector, in: collection, tenant: tenant, limit: limit,
                                                  filter: try filter.map { try database.parseFilter($0, for: collection) }, ef: ef))
        case .stats:
            return try encode(database.stats())
        case .collections:
            return try encode(database.collections())
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
        }
    }

    private func encode<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
