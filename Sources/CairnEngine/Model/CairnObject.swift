import Foundation

/// An object to write: an id, typed properties and one vector.
public struct NewObject: Sendable, Hashable {
    public var id: UUID
    public var properties: [String: PropertyValue]
    public var vector: [Float]

    public init(id: UUID = UUID(), properties: [String: PropertyValue] = [:], vector: [Float]) {
        self.id = id
        self.properties = properties
        self.vector = vector
    }
}

/// An object as stored: what was written plus its timestamps. Cosine collections store the
/// vector normalised to unit length.
public struct StoredObject: Sendable, Hashable {
    public var id: UUID
    public var properties: [String: PropertyValue]
    public var vector: [Float]
    /// When the object was first written (kept across overwrites), in ms since the epoch.
    public var createdAtMilliseconds: Int64
    /// When this version was written, in ms since the epoch.
    public var updatedAtMilliseconds: Int64

    public var createdAt: Date { Date(timeIntervalSince1970: Double(createdAtMilliseconds) / 1000) }
    public var updatedAt: Date { Date(timeIntervalSince1970: Double(updatedAtMilliseconds) / 1000) }
}

/// One object version inside a WAL record, the memtable or a segment.
struct ObjectVersion: Sendable {
    var id: UUID
    var properties: [String: PropertyValue]
    var vector: [Float]
    var updatedAt: Int64
}
