import Foundation

/// An object to write: an id, typed properties and one vector.
public struct NewObject: Sendable, Hashable, Codable {
    /// The object's id, unique within its partition.
    public var id: UUID
    /// Property values by name, checked against the collection's schema.
    public var properties: [String: PropertyValue]
    /// The embedding; it must have the collection's dimensions.
    public var vector: [Float]

    /// An object to write: a new random id unless given, its properties and its vector.
    public init(id: UUID = UUID(), properties: [String: PropertyValue] = [:], vector: [Float]) {
        self.id = id
        self.properties = properties
        self.vector = vector
    }
}

/// An object as stored: what was written plus its timestamps. Cosine collections store the
/// vector normalised to unit length.
public struct StoredObject: Sendable, Hashable, Codable {
    /// The object's id.
    public var id: UUID
    /// Property values by name.
    public var properties: [String: PropertyValue]
    /// The embedding, exactly as written.
    public var vector: [Float]
    /// When the object was first written (kept across overwrites), in ms since the epoch.
    public var createdAtMilliseconds: Int64
    /// When this version was written, in ms since the epoch.
    public var updatedAtMilliseconds: Int64

    package init(id: UUID, properties: [String: PropertyValue], vector: [Float], createdAtMilliseconds: Int64, updatedAtMilliseconds: Int64) {
        self.id = id
        self.properties = properties
        self.vector = vector
        self.createdAtMilliseconds = createdAtMilliseconds
        self.updatedAtMilliseconds = updatedAtMilliseconds
    }

    /// When the object was first written.
    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMilliseconds) / 1000) }
    /// When this version of the object was written.
    public var updatedAt: Date { Date(timeIntervalSince1970: Double(updatedAtMilliseconds) / 1000) }
}

/// One object version inside a WAL record, the memtable or a segment.
struct ObjectVersion: Sendable {
    var id: UUID
    var properties: [String: PropertyValue]
    var vector: [Float]
    var updatedAt: Int64
}
