/// Where a repository's objects live: whole objects, named by slash-separated paths (`config`,
/// `keys/<id>`, `data/<ab>/<id>`), each written once and then only read or deleted. A local
/// path (another disk, a mounted volume) is the first backend; S3-compatible object storage
/// fits the same operations.
public protocol RepositoryBackend: Sendable {
    /// A description of the location for messages (a path, a bucket URL).
    var location: String { get }
    /// Stores `bytes` as `name`, durably, replacing nothing: a name is written once. A crash
    /// leaves either no object or the whole object.
    func put(_ name: String, _ bytes: [UInt8]) async throws
    /// Stores `bytes` as `name` only if no object has that name; returns false (and stores
    /// nothing) when one has. Atomic: of two concurrent creators exactly one succeeds.
    func create(_ name: String, _ bytes: [UInt8]) async throws -> Bool
    /// The whole object.
    func get(_ name: String) async throws -> [UInt8]
    /// Bytes `range` of the object.
    func get(_ name: String, range: Range<Int>) async throws -> [UInt8]
    /// The objects whose names start with `prefix` (a folder ends with `/`), sorted by name.
    func list(_ prefix: String) async throws -> [StoredObjectInfo]
    /// Deletes the object; a missing one is fine.
    func delete(_ name: String) async throws
}

/// One object in a backend listing.
public struct StoredObjectInfo: Sendable, Hashable {
    /// The object's name.
    public var name: String
    /// Its size in bytes.
    public var size: Int
    /// When it was written, in ms since the epoch.
    public var modified: Int64
}
