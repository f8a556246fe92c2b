import Foundation

/// What one `cairn` process asks of the process that holds a database open, through its
/// control socket (and, later, what HTTP requests ask): small versioned JSON messages, one per
/// line. The handler (`ControlHandler`) does not know the transport.
public enum ControlRequest: Codable, Sendable {
    case count(collection: String, tenant: String?, filter: String?)
    case get(collection: String, tenant: String?, id: UUID)
    /// Answered with a `HitBatch`; `withVectors` false leaves the hits' vectors out (nil: included).
    case search(collection: String, tenant: String?, vector: FloatBlock, limit: Int, filter: String?, ef: Int?, withVectors: Bool? = nil)
    case stats
    /// Every collection with its object count (nil: per tenant) and tenants: `[CollectionListing]`.
    case collections
    case collection(name: String)
    case flush
    case createSnapshot(label: String?)
    case snapshots
    case beginStorageSnapshot(label: String, timeout: Double)
    case endStorageSnapshot
    /// What an import into `collection` needs before it starts: `ImportSettings`.
    case importSettings(collection: String)
    /// Checks a batch without writing it (a dry run, or before a safety snapshot).
    case validate(collection: String, tenant: String?, objects: ObjectBatch)
    /// Writes a batch atomically; answered when it is durable.
    case put(collection: String, tenant: String?, objects: ObjectBatch)
    /// Takes the safety snapshot before a risky operation (nil when the policy is off).
    case safetySnapshot(before: String)
    /// Deletes the ids that exist: `DeleteOutcome`.
    case delete(collection: String, tenant: String?, ids: [UUID])
    case createCollection(CollectionSchema)
    case dropCollection(name: String)
    case configureCollection(name: String, ingestion: JSONValue?, sources: [String])
    case tuneCollection(name: String, efSearch: Int, quantization: VectorQuantization?)
    case addTenant(collection: String, tenant: String)
    case removeTenant(collection: String, tenant: String)
    case setTenantState(collection: String, tenant: String, state: TenantState)
    /// The collection's tenants, each with its object count when it is loaded: `[TenantListing]`.
    case tenants(collection: String)
    case setAlias(alias: String, collection: String)
    case removeAlias(alias: String)
    case aliases
    case snapshot(id: String)
    /// Deletes a snapshot; answered with the bytes only it held.
    case deleteSnapshot(id: String)
    /// Backs the database up into the local repository at `repository`, opened with
    /// `credential` (which crosses only the owner-only socket): `BackupInfo`.
    case backup(repository: String, credential: RepositoryCredential, scope: PartitionScope, tags: [String])
    /// Streams the objects of a partition as import-ready JSONL in chunks, then answers with the
    /// number exported (see `ControlFraming.encodeChunk`).
    case export(collection: String, tenant: String?, filter: String?, withMetadata: Bool)
    /// Restores a collection or one tenant of a backup into the database (`Database.restore`).
    case restoreInto(repository: String, credential: RepositoryCredential, backup: String, collection: String, tenant: String?,
                     name: String?, replacing: Bool)
}

/// One collection as `collection list` shows it.
public struct CollectionListing: Codable, Sendable {
    public var schema: CollectionSchema
    /// Live objects, or nil for a multi-tenant collection (counted per tenant).
    public var objects: Int?
    public var tenants: Int
}

/// One tenant as `tenant list` shows it.
public struct TenantListing: Codable, Sendable {
    public var tenant: TenantInfo
    /// Live objects, or nil when the tenant is not loaded.
    public var objects: Int?
}

/// What a delete request did: the ids deleted, and those no object had.
public struct DeleteOutcome: Codable, Sendable {
    public var deleted: [UUID]
    public var notFound: [UUID]
}

/// A batch of objects as it crosses the socket: ids and properties as JSON, the vectors as one
/// block of little-endian 32-bit floats (base64 in the JSON), so a batch of a thousand
/// 128-dimensional vectors is encoded and decoded without printing or parsing a number.
public struct ObjectBatch: Codable, Sendable, Hashable {
    public var objects: [NewObject]

    public init(_ objects: [NewObject]) { self.objects = objects }

    private enum CodingKeys: String, CodingKey { case ids, properties, dimensions, vectors }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(objects.map(\.id), forKey: .ids)
        try container.encode(objects.map(\.properties), forKey: .properties)
        try container.encode(objects.map(\.vector.count), forKey: .dimensions)
        var vectors = Data(capacity: objects.reduce(0) { $0 + $1.vector.count * 4 })
        for object in objects { object.vector.withUnsafeBytes { vectors.append(contentsOf: $0) } }
        try container.encode(vectors, forKey: .vectors)
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let ids = try container.decode([UUID].self, forKey: .ids)
        let properties = try container.decode([[String: PropertyValue]].self, forKey: .properties)
        let dimensions = try container.decode([Int].self, forKey: .dimensions)
        let vectors = try container.decode(Data.self, forKey: .vectors)
        guard ids.count == properties.count, ids.count == dimensions.count, dimensions.allSatisfy({ $0 >= 0 }),
              dimensions.reduce(0, +) * 4 == vectors.count else {
            throw DecodingError.dataCorruptedError(forKey: .vectors, in: container, debugDescription: "the batch's parts do not fit together")
        }
        objects = try vectors.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            return try ids.indices.map { index in
                NewObject(id: ids[index], properties: properties[index], vector: try reader.readFloats(count: dimensions[index]))
            }
        }
    }
}

/// A vector as it crosses the control socket: its floats as one block of bytes (base64 in the
/// JSON message), exact and without formatting or parsing a number per dimension.
public struct FloatBlock: Codable, Sendable, Hashable {
    public var values: [Float]

    public init(_ values: [Float]) { self.values = values }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values.withUnsafeBytes { Data($0) })
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let data = try container.decode(Data.self)
        guard data.count % 4 == 0 else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a vector's bytes are not a whole number of floats")
        }
        values = data.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            return (try? reader.readFloats(count: raw.count / 4)) ?? []
        }
    }
}

/// Search hits as they cross the control socket: one binary block (per hit the id, distance,
/// times, vector and properties in the WAL's encoding), so a reply costs microseconds where
/// JSON per value cost a millisecond.
public struct HitBatch: Codable, Sendable {
    public var hits: [SearchHit]

    public init(_ hits: [SearchHit]) { self.hits = hits }

    public func encode(to encoder: Encoder) throws {
        var writer = ByteWriter(capacity: hits.reduce(64) { $0 + 64 + $1.object.vector.count * 4 })
        writer.write(UInt32(hits.count))
        for hit in hits {
            writer.write(hit.object.id)
            writer.write(hit.distance)
            writer.write(hit.object.createdAtMilliseconds)
            writer.write(hit.object.updatedAtMilliseconds)
            writer.write(UInt32(hit.object.vector.count))
            hit.object.vector.withUnsafeBufferPointer { writer.write(floats: $0) }
            PropertyCoding.encode(hit.object.properties, into: &writer)
        }
        var container = encoder.singleValueContainer()
        try container.encode(Data(writer.bytes))
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let data = try container.decode(Data.self)
        do {
            hits = try data.withUnsafeBytes { raw in
                var reader = ByteReader(raw)
                let count = Int(try reader.read(UInt32.self))
                guard count <= raw.count / 40 else { throw ControlError(kind: "protocol", message: "the hit count exceeds the block") }
                return try (0..<count).map { _ in
                    let id = try reader.readUUID()
                    let distance = Float(bitPattern: try reader.read(UInt32.self))
                    let createdAt = try reader.read(Int64.self)
                    let updatedAt = try reader.read(Int64.self)
                    let dimensions = Int(try reader.read(UInt32.self))
                    let vector = try reader.readFloats(count: dimensions)
                    let properties = try PropertyCoding.decodeProperties(from: &reader)
                    return SearchHit(object: StoredObject(id: id, properties: properties, vector: vector, createdAtMilliseconds: createdAt,
                                                          updatedAtMilliseconds: updatedAt), distance: distance)
                }
            }
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "the search hits do not decode: \(error)")
        }
    }
}

/// What an import needs to know of the database before it starts.
public struct ImportSettings: Codable, Sendable {
    public var schema: CollectionSchema
    /// Imports of more objects take a safety snapshot first.
    public var bulkImportThreshold: Int
}

/// One message on the control socket: a request from a client, or the reply to it.
struct ControlEnvelope: Codable, Sendable {
    /// The version of the message format; a peer refuses one it does not speak.
    static let currentVersion = 1

    var version = ControlEnvelope.currentVersion
    var request: ControlRequest?
    var error: ControlError?
}

/// A reply as the client reads it: `{"version":1,"result":<the result's JSON>}` (the server
/// splices the result in as it is, so it is encoded and parsed once) or `{…,"error":{…}}`.
struct ControlReply<Result: Decodable>: Decodable {
    var version: Int
    var outcome: Swift.Result<Result, ControlError>

    private enum Keys: String, CodingKey { case version, result, error }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        version = try container.decode(Int.self, forKey: .version)
        if let error = try container.decodeIfPresent(ControlError.self, forKey: .error) {
            outcome = .failure(error)
        } else if container.contains(.result) {
            outcome = .success(try container.decode(Result.self, forKey: .result))
        } else {
            outcome = .failure(ControlError(kind: "protocol", message: "a control reply without a result"))
        }
    }
}

/// A failure as it crosses the socket: the error's kind (as `--json` prints it) and its message.
public struct ControlError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var kind: String
    public var message: String
    /// The database's own error, when it was one (a client throws it as it is).
    public var cairn: CairnError?

    public var description: String { message }

    init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    init(_ error: Error) {
        switch error {
        case let error as CairnError:
            self.init(kind: error.kind, message: error.description)
            cairn = error
        case let error as ControlError: self = error
        default: self.init(kind: "failed", message: "\(error)")
        }
    }
}

/// Newline-delimited JSON framing on a file descriptor.
enum ControlFraming {
    /// The largest message accepted (a search vector of 65,536 dimensions fits many times).
    static let maximumMessageBytes = 16 << 20

    static func encode(_ envelope: ControlEnvelope) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return [UInt8](try encoder.encode(envelope)) + [0x0A]
    }

    /// A part of a streamed reply: the line `{"version":1,"chunk":N}`, then N raw bytes. The
    /// reply's result (or error) follows the last chunk as usual.
    static func encodeChunk(_ bytes: [UInt8]) -> [UInt8] {
        chunkPrefix + Array("\(bytes.count)}\n".utf8) + bytes
    }

    /// A progress report of a long request (a backup, a restore): `{"version":1,"progress":{…}}`.
    static func encodeProgress(_ progress: TransferProgress) -> [UInt8] {
        let json = (try? JSONEncoder().encode(progress)).map { [UInt8]($0) } ?? Array("{}".utf8)
        return progressPrefix + json + [0x7D, 0x0A]
    }

    private static let chunkPrefix = Array("{\"version\":\(ControlEnvelope.currentVersion),\"chunk\":".utf8)
    private static let progressPrefix = Array("{\"version\":\(ControlEnvelope.currentVersion),\"progress\":".utf8)

    /// What a line of a reply is before its result: a chunk header or a progress report.
    enum Interim {
        case chunk(length: Int)
        case progress(TransferProgress)
    }

    /// The chunk header or progress report `line` is, or nil for the reply's final line.
    static func interim(_ line: [UInt8]) -> Interim? {
        if line.count > chunkPrefix.count + 1, line.starts(with: chunkPrefix), line.last == 0x7D,
           let length = Int(String(decoding: line[chunkPrefix.count..<(line.count - 1)], as: UTF8.self)) {
            return .chunk(length: length)
        }
        if line.count > progressPrefix.count + 1, line.starts(with: progressPrefix), line.last == 0x7D,
           let report = try? JSONDecoder().decode(TransferProgress.self, from: Data(line[progressPrefix.count..<(line.count - 1)])) {
            return .progress(report)
        }
        return nil
    }

    /// A reply carrying `result`, the JSON text of the request's result type.
    static func encodeReply(result: String) -> [UInt8] {
        Array("{\"version\":\(ControlEnvelope.currentVersion),\"result\":".utf8) + Array(result.utf8) + [0x7D, 0x0A]
    }

    static func decode(_ line: [UInt8]) throws -> ControlEnvelope {
        let envelope: ControlEnvelope
        do { envelope = try JSONDecoder().decode(ControlEnvelope.self, from: Data(line)) } catch {
            throw ControlError(kind: "protocol", message: "a control message does not decode: \(error)")
        }
        try checkVersion(envelope.version)
        return envelope
    }

    /// The result of a reply, decoded as `T`, or the error it carries.
    static func decodeReply<T: Decodable>(_ line: [UInt8], as type: T.Type) throws -> T {
        let reply: ControlReply<T>
        do { reply = try JSONDecoder().decode(ControlReply<T>.self, from: Data(line)) } catch {
            throw ControlError(kind: "protocol", message: "a control reply does not decode as \(T.self): \(error)")
        }
        try checkVersion(reply.version)
        switch reply.outcome {
        case let .success(result): return result
        case let .failure(error): throw error.cairn ?? error
        }
    }

    private static func checkVersion(_ version: Int) throws {
        guard version == ControlEnvelope.currentVersion else {
            throw ControlError(kind: "protocol", message: "control message version \(version); this Cairn speaks \(ControlEnvelope.currentVersion)")
        }
    }

    /// Writes all of `bytes`, or throws.
    static func write(_ bytes: [UInt8], to descriptor: Int32) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ControlError(kind: "io", message: "the control connection closed: \(String(cString: strerror(errno)))") }
            sent += count
        }
    }
}

/// Reads newline-delimited messages from a file descriptor.
final class ControlLineReader {
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// What one `recv` fills, reused for every read.
    private var chunk = [UInt8](repeating: 0, count: 64 << 10)

    init(descriptor: Int32) { self.descriptor = descriptor }

    /// The next `count` raw bytes (a chunk after its header), or nil if the stream ends first.
    func bytes(_ count: Int) throws -> [UInt8]? {
        while buffer.count - start < count { guard receive() else { return nil } }
        return take(upTo: start + count, skipping: 0)
    }

    /// The next line without its newline, or nil at the end of the stream.
    func next() throws -> [UInt8]? {
        var searched = start
        while true {
            if let newline = buffer[searched...].firstIndex(of: 0x0A) { return take(upTo: newline, skipping: 1) }
            guard buffer.count - start <= ControlFraming.maximumMessageBytes else {
                throw ControlError(kind: "protocol", message: "a control message is longer than \(ControlFraming.maximumMessageBytes) bytes")
            }
            searched = buffer.count
            guard receive() else { return nil }
        }
    }

    /// Appends what one `recv` brings; false at the end of the stream (or on an error).
    private func receive() -> Bool {
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return false }
            buffer += chunk[0..<count]
            return true
        }
    }

    /// The buffered bytes up to `end`, consumed with `skipping` more (a newline); the buffer is
    /// compacted now and then.
    private func take(upTo end: Int, skipping: Int) -> [UInt8] {
        let bytes = Array(buffer[start..<end])
        start = end + skipping
        if start > 1 << 20 {
            buffer.removeFirst(start)
            start = 0
        }
        return bytes
    }
}
