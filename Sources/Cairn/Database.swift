@_exported import CairnBackup
@_exported import CairnEngine
@_exported import CairnVector
import Foundation
import Synchronization

/// A Cairn database in a local data directory: collections of objects with vectors, tenants,
/// aliases and access control, all written through one durable log.
///
/// ```swift
/// let db = try await Database.open(at: "./cairn-data")
/// try await db.createCollection(CollectionSchema(name: "articles", dimensions: 384))
/// try await db.put([NewObject(vector: embedding)], into: "articles")
/// let hits = try db.search(query, in: "articles", limit: 10)
/// await db.close()
/// ```
/// Writes return once they are durable (their WAL record is synced); reads see every
/// acknowledged write. One process at a time may open a data directory.
public final class Database: Sendable {
    /// This build of Cairn (`cairn --version`).
    public static let version = "0.1.0"

    /// The storage engine underneath: for this package's tools and tests only, so no library user
    /// can bypass safety snapshots or locking.
    package let engine: Engine

    /// The data directory.
    public var directory: String { engine.directory }

    /// The control socket `cairn` commands use while this process holds the database.
    private let controlServer = Mutex<ControlServer?>(nil)

    private init(engine: Engine) {
        self.engine = engine
    }

    /// Opens the database in `directory`, creating an empty one if the directory is new.
    /// Recovery replays the WAL after the last checkpoint; corrupt files are reported, never loaded.
    /// Unless `options.controlSocket` is off, the database listens on `control.sock` in the
    /// directory, so that `cairn` commands of the same user work while it is open here.
    public static func open(at directory: String, options: EngineOptions = EngineOptions()) async throws -> Database {
        let database = Database(engine: try await Engine.open(at: directory, options: options))
        if options.controlSocket {
            let server = ControlServer.start(for: database, logger: options.logger)
            database.controlServer.withLock { $0 = server }
        }
        return database
    }

    /// Carries out a control request (what `cairn` commands send) and returns its result as
    /// JSON text: the same handling whether the request came through the control socket or
    /// from a command that opened the database itself.
    public func handle(_ request: ControlRequest) async throws -> String {
        try await ControlHandler(database: self).handle(request)
    }

    /// Stops the control socket, waits for queued writes and background work, then releases
    /// the directory.
    public func close() async {
        controlServer.withLock { server in
            server?.stop()
            server = nil
        }
        await engine.close()
    }

    // MARK: Collections

    /// Creates a collection; fails if the name is taken or the schema is invalid.
    public func createCollection(_ schema: CollectionSchema) async throws {
        try await engine.createCollection(schema)
    }

    /// Replaces how a collection's vectors are made (`ingestion`, opaque JSON) and the files
    /// and directories they are made from (`sources`, absolute paths, backed up with it).
    public func configureCollection(_ name: String, ingestion: JSONValue?, sources: [String]) async throws {
        try await engine.configureCollection(name, ingestion: ingestion, sources: sources)
    }

    /// Replaces a collection's search settings: `efSearch`, the beam of searches that name no
    /// `ef`, takes effect at once; `quantization` applies to the segments written from now on
    /// (each flush and compaction), and walks use codes only while the collection quantizes.
    public func tuneCollection(_ name: String, efSearch: Int, quantization: VectorQuantization?) async throws {
        try await engine.tuneCollection(name, efSearch: efSearch, quantization: quantization)
    }

    /// A consistent export of a collection's (or tenant's) live objects that `filter` allows,
    /// as of this moment: read them in id order with `forEach` while writers continue.
    public func export(_ collection: String, tenant: String? = nil, filter: Filter? = nil) throws -> PartitionExport {
        try engine.export(collection: collection, tenant: tenant, filter: filter)
    }

    /// Every collection, sorted by name.
    public func collections() -> [CollectionSchema] {
        engine.catalog.collections.values.sorted { $0.name < $1.name }
    }

    /// The schema of a collection, by name or alias.
    public func collection(named name: String) throws -> CollectionSchema {
        try engine.catalog.resolve(name)
    }

    /// Drops a collection with all its tenants, objects and aliases, after a safety snapshot
    /// (see `EngineOptions.safetySnapshots`).
    public func dropCollection(_ name: String) async throws {
        let schema = try collection(named: name)
        let safety = try await engine.takeSafetySnapshot(before: "drop collection \(schema.name)")
        do { try await engine.dropCollection(name) } catch {
            engine.discardSafetySnapshot(safety)
            throw error
        }
    }

    // MARK: Tenants

    /// Adds an active tenant to a multi-tenant collection.
    public func addTenant(_ tenant: String, to collection: String) async throws {
        try await engine.addTenant(tenant, to: collection)
    }

    /// Removes a tenant and all its objects, after a safety snapshot.
    public func removeTenant(_ tenant: String, from collection: String) async throws {
        guard try tenants(of: collection).contains(where: { $0.name == tenant }) else {
            throw CairnError.tenantNotFound(collection: try self.collection(named: collection).name, tenant: tenant)
        }
        let safety = try await engine.takeSafetySnapshot(before: "remove tenant \(tenant) of \(collection)")
        do { try await engine.removeTenant(tenant, from: collection) } catch {
            engine.discardSafetySnapshot(safety)
            throw error
        }
    }

    /// Activates or deactivates a tenant. An inactive tenant's files stay on disk, unloaded.
    public func setTenantState(_ tenant: String, of collection: String, to state: TenantState) async throws {
        try await engine.setTenantState(tenant, of: collection, to: state)
    }

    /// The tenants of a multi-tenant collection, sorted by name.
    public func tenants(of collection: String) throws -> [TenantInfo] {
        let catalog = engine.catalog
        let schema = try catalog.resolve(collection)
        guard schema.multiTenant else { throw CairnError.tenantsNotEnabled(collection: schema.name) }
        return (catalog.tenants[schema.name] ?? [:]).values.sorted { $0.name < $1.name }
    }

    // MARK: Aliases

    /// Points `alias` at `collection`, atomically replacing any earlier target.
    public func setAlias(_ alias: String, to collection: String) async throws {
        try await engine.setAlias(alias, to: collection)
    }

    /// Removes the alias `alias`; the collection it named is untouched.
    public func removeAlias(_ alias: String) async throws {
        try await engine.removeAlias(alias)
    }

    /// Alias name → collection name.
    public func aliases() -> [String: String] { engine.catalog.aliases }

    // MARK: Objects

    /// Writes a batch atomically: all objects or none. An invalid object rejects the batch with
    /// `CairnError.batchRejected`, which lists every invalid object and why.
    public func put(_ objects: [NewObject], into collection: String, tenant: String? = nil) async throws {
        try await engine.put(objects, collection: collection, tenant: tenant)
    }

    /// Writes one object.
    public func put(_ object: NewObject, into collection: String, tenant: String? = nil) async throws {
        try await engine.put([object], collection: collection, tenant: tenant)
    }

    /// The object with `id`, or nil.
    public func get(_ id: UUID, from collection: String, tenant: String? = nil) throws -> StoredObject? {
        try engine.get(id, collection: collection, tenant: tenant)
    }

    /// Deletes objects by id; unknown ids are ignored.
    public func delete(_ ids: [UUID], from collection: String, tenant: String? = nil) async throws {
        try await engine.delete(ids, collection: collection, tenant: tenant)
    }

    /// Up to `limit` objects in id order after `cursor`: pass the last id of a page to get the next.
    public func scroll(_ collection: String, tenant: String? = nil, after cursor: UUID? = nil, limit: Int = 100) throws -> [StoredObject] {
        try engine.scroll(collection: collection, tenant: tenant, after: cursor, limit: limit)
    }

    /// The number of objects, optionally only those matching `filter`.
    public func count(_ collection: String, tenant: String? = nil, filter: Filter? = nil) throws -> Int {
        try engine.count(collection: collection, tenant: tenant, filter: filter)
    }

    /// The `limit` objects nearest to `vector` among those matching `filter`, nearest first.
    /// `ef` widens (or narrows) the HNSW beam for this query: more recall, less speed. Under a
    /// filter a given `ef` costs about what it costs without one, at lower recall (raise it for
    /// more); without one, the walk goes on until it has `efSearch` matching objects. Each hit
    /// carries its id, its distance and the parts of its object `fields` names (default: all).
    public func search(_ vector: [Float], in collection: String, tenant: String? = nil, limit: Int = 10,
                       filter: Filter? = nil, ef: Int? = nil, fields: ResultFields = .all) throws -> [SearchHit] {
        try engine.search(vector, collection: collection, tenant: tenant, limit: limit, filter: filter, ef: ef, fields: fields)
    }

    /// Parses a filter expression such as `year >= 2020 and lang = "en"` against a collection's schema.
    public func parseFilter(_ text: String, for collection: String) throws -> Filter {
        var parser = FilterParser(text: text, schema: try self.collection(named: collection))
        return try parser.parse()
    }

    // MARK: Maintenance

    /// Counts and sizes of the database now.
    public func stats() -> EngineStats { engine.stats() }

    /// Writes the in-memory part to segments and moves the checkpoint forward.
    public func flush() async throws { try await engine.flush() }

    /// Merges segments where a partition has accumulated many.
    public func compact() async throws { try await engine.compact() }

    /// Links every vector still waiting for the background indexer into its memtable's live
    /// graph now. Searches are correct either way (waiting vectors are scanned exactly); this
    /// only makes them take the graph path sooner.
    public func finishIndexing() async throws { try await engine.finishIndexing() }
}
