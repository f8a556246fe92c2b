import CairnVector
import Foundation

/// A change to the catalog (everything but objects), kept in the WAL as JSON inside the binary
/// frame: these records are rare and small, and JSON keeps them readable by other tools.
enum CatalogChange: Sendable, Codable {
    case createCollection(CollectionSchema)
    case dropCollection(String)
    /// Replaces a collection's ingestion configuration and source paths.
    case configureCollection(collection: String, ingestion: JSONValue?, sources: [String]?)
    /// Replaces a collection's search settings: the beam a search uses when it names none, and
    /// how segments written from then on code vectors (nil: they do not).
    case tuneCollection(collection: String, efSearch: Int, quantization: VectorQuantization?)
    case addTenant(collection: String, tenant: String)
    case removeTenant(collection: String, tenant: String)
    case setTenantState(collection: String, tenant: String, state: TenantState)
    case setAlias(alias: String, collection: String)
    case removeAlias(String)
    case putRole(Role)
    case deleteRole(String)
    case putUser(User)
    case deleteUser(String)
    /// Restored partitions join the database in one step: a tenant of a live collection, or a
    /// whole collection (`attachment.schema` set) with its tenants. Their segment files are
    /// already in place and become a new incarnation, replacing what has that name if `replaces`.
    case attach(PartitionAttachment)
}

/// Partitions restored into the live database: what their attachment record holds.
struct PartitionAttachment: Sendable, Codable {
    /// A restored tenant with its state and segment files (under the incarnation the record
    /// creates). A collection without tenants has one, named `PartitionKey.defaultTenant`.
    struct Tenant: Sendable, Codable {
        var name: String
        var state: TenantState
        var segments: [Manifest.SegmentRecord]
    }

    var collection: String
    /// The collection's schema when the attachment creates the collection; nil when it adds a
    /// tenant to a live one.
    var schema: CollectionSchema?
    var tenants: [Tenant]
    /// Whether a collection or tenant of that name is replaced (dropped in the same step; a
    /// replaced collection keeps its aliases).
    var replaces: Bool

    /// Every segment file the attachment adds.
    var segments: [Manifest.SegmentRecord] { tenants.flatMap(\.segments) }
}

/// One WAL record's content: every mutation of the database is one of these, with one LSN.
enum Mutation: Sendable {
    case catalog(CatalogChange)
    /// Puts a batch of object versions into one partition, atomically.
    case putObjects(PartitionKey, [ObjectVersion])
    /// Deletes ids from one partition at `time` (ms since the epoch).
    case deleteObjects(PartitionKey, [UUID], time: Int64)

    private enum Tag: UInt8 {
        case catalog = 1, putObjects = 2, deleteObjects = 3
    }

    /// The record payload. Layout: `u8 tag`, then for catalog changes a length-prefixed JSON
    /// document; for puts `string collection, string tenant, u32 count` and per object
    /// `uuid, i64 updatedAt, u32 dims, f32 × dims, properties`; for deletes the partition,
    /// `i64 time, u32 count, uuid × count`.
    func encode(into writer: inout ByteWriter) throws {
        switch self {
        case let .catalog(change):
            writer.write(Tag.catalog.rawValue)
            let json: Data
            do { json = try JSONEncoder().encode(change) } catch {
                throw CairnError.invalidArgument("the change cannot be written to the log: \(error)")
            }
            writer.write(lengthPrefixed: [UInt8](json))
        case let .putObjects(key, objects):
            writer.write(Tag.putObjects.rawValue)
            writer.write(key.collection)
            writer.write(key.tenant)
            writer.write(UInt32(objects.count))
            for object in objects {
                writer.write(object.id)
                writer.write(object.updatedAt)
                writer.write(UInt32(object.vector.count))
                object.vector.withUnsafeBufferPointer { writer.write(floats: $0) }
                PropertyCoding.encode(object.properties, into: &writer)
            }
        case let .deleteObjects(key, ids, time):
            writer.write(Tag.deleteObjects.rawValue)
            writer.write(key.collection)
            writer.write(key.tenant)
            writer.write(time)
            writer.write(UInt32(ids.count))
            for id in ids { writer.write(id) }
        }
    }

    /// Decodes a record payload; throws `ByteReader.Truncated` on malformed bytes.
    static func decode(_ payload: UnsafeRawBufferPointer) throws -> Mutation {
        var reader = ByteReader(payload)
        switch Tag(rawValue: try reader.read(UInt8.self)) {
        case .catalog:
            let json = try reader.readLengthPrefixed()
            guard let change = try? JSONDecoder().decode(CatalogChange.self, from: Data(json)) else {
                throw ByteReader.Truncated(offset: 1)
            }
            return .catalog(change)
        case .putObjects:
            let key = PartitionKey(collection: try reader.readString(), tenant: try reader.readString())
            let count = Int(try reader.read(UInt32.self))
            guard count <= reader.remaining else { throw ByteReader.Truncated(offset: reader.offset) }
            var objects: [ObjectVersion] = []
            objects.reserveCapacity(count)
            for _ in 0..<count {
                let id = try reader.readUUID()
                let updatedAt = try reader.read(Int64.self)
                let dimensions = Int(try reader.read(UInt32.self))
                let vector = try reader.readFloats(count: dimensions)
                let properties = try PropertyCoding.decodeProperties(from: &reader)
                objects.append(ObjectVersion(id: id, properties: properties, vector: vector, updatedAt: updatedAt))
            }
            return .putObjects(key, objects)
        case .deleteObjects:
            let key = PartitionKey(collection: try reader.readString(), tenant: try reader.readString())
            let time = try reader.read(Int64.self)
            let count = Int(try reader.read(UInt32.self))
            guard count <= reader.remaining / 16 else { throw ByteReader.Truncated(offset: reader.offset) }
            var ids: [UUID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try reader.readUUID()) }
            return .deleteObjects(key, ids, time: time)
        case nil:
            throw ByteReader.Truncated(offset: 0)
        }
    }
}
