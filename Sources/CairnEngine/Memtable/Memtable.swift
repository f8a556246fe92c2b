import CairnVector
import Foundation

/// The in-memory part of one partition: every object version and deletion applied since the
/// last flush, in apply order. A newer version of an id supersedes its older slot. Its vectors
/// are also the nodes of a live HNSW graph, linked in the background (`MemtableGraph`).
final class Memtable: @unchecked Sendable {
    /// One applied change: an object version, or a tombstone when `isTombstone`. Its properties
    /// are kept encoded (`properties(at:)`).
    struct Entry {
        var id: UUID
        var createdAt: Int64
        var updatedAt: Int64
        /// Where the entry's properties, as `PropertyCoding` encodes them, start in `propertyBytes`.
        fileprivate var propertyStart: Int
        fileprivate var propertyLength: UInt32
        var isTombstone: Bool
    }

    let dimensions: Int
    let metric: DistanceMetric
    private(set) var entries: [Entry] = []
    /// Every entry's properties, encoded one after another: a few dozen bytes an object, where a
    /// Swift dictionary of them costs hundreds.
    private var propertyBytes = ByteWriter(capacity: 0)
    /// Each slot's vector as written (zeros for tombstones) and scale, appended through `graph`,
    /// which reads them in place.
    let vectors: MemtableVectors
    /// Slots replaced by a newer version in this memtable (left out when it is flushed).
    private(set) var superseded: [Bool] = []
    /// Slots hidden by a newer version in a newer memtable (still flushed: a flush writes the
    /// state as of its LSN, and the newer memtable shadows them).
    private(set) var hidden: [Bool] = []
    /// The newest slot of each id.
    private var latestSlot = SlotTable()
    /// Slots that are superseded or hidden (tombstones are not counted).
    private(set) var replacedCount = 0
    /// Slots superseded by a newer version here, and tombstones.
    private var supersededCount = 0, tombstoneCount = 0
    let graph: MemtableGraph

    init(schema: CollectionSchema) {
        dimensions = schema.dimensions
        metric = schema.metric
        vectors = MemtableVectors(dimensions: schema.dimensions)
        graph = MemtableGraph(vectors: vectors, metric: schema.metric, parameters: schema.hnsw)
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The newest entry for `id`, if this memtable has one.
    func latest(_ id: UUID) -> (entry: Entry, slot: Int)? {
        guard let slot = latestSlot.slot(of: id, idOfSlot: { entries[$0].id }) else { return nil }
        return (entries[slot], slot)
    }

    /// Adds an object version. Returns the bytes its encoded properties take.
    @discardableResult
    func put(_ version: ObjectVersion, createdAt: Int64) -> Int {
        let start = propertyBytes.count
        PropertyCoding.encode(version.properties, into: &propertyBytes)
        append(Entry(id: version.id, createdAt: createdAt, updatedAt: version.updatedAt, propertyStart: start,
                     propertyLength: UInt32(propertyBytes.count - start), isTombstone: false), vector: version.vector)
        return propertyBytes.count - start
    }

    func delete(_ id: UUID, at time: Int64) {
        tombstoneCount += 1
        append(Entry(id: id, createdAt: time, updatedAt: time, propertyStart: propertyBytes.count, propertyLength: 0, isTombstone: true),
               vector: nil)
    }

    /// The properties of `slot` (none for a tombstone).
    func properties(at slot: Int) -> [String: PropertyValue] {
        withEncodedProperties(at: slot) { bytes in
            guard !bytes.isEmpty else { return [:] }
            var reader = ByteReader(bytes)
            do {
                return try PropertyCoding.decodeProperties(from: &reader)
            } catch {
                preconditionFailure("a memtable's own property encoding did not decode: \(error)")
            }
        }
    }

    /// Runs `body` over the encoded properties of `slot` (empty for a tombstone).
    func withEncodedProperties<Result>(at slot: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        let entry = entries[slot]
        return try propertyBytes.bytes.withUnsafeBytes { all in
            try body(UnsafeRawBufferPointer(rebasing: all[entry.propertyStart..<entry.propertyStart + Int(entry.propertyLength)]))
        }
    }

    /// Whether the object in `slot` passes `filter`, read from its encoded properties without
    /// decoding the ones the filter does not name.
    func matches(_ filter: BoundFilter, at slot: Int) -> Bool {
        withEncodedProperties(at: slot) { bytes in filter.matches { PropertyCoding.value(named: $0, in: bytes) } }
    }

    private func append(_ entry: Entry, vector: [Float]?) {
        let slot = entries.count
        entries.append(entry)
        if let previous = latestSlot.set(slot, for: entry.id, idOfSlot: { entries[$0].id }) {
            if !hidden[previous] && !entries[previous].isTombstone { replacedCount += 1 }
            superseded[previous] = true
            supersededCount += 1
        }
        superseded.append(false)
        hidden.append(false)
        if let vector {
            vector.withUnsafeBufferPointer { graph.append($0, scale: metric.scale(of: $0)) }
        } else {
            graph.append(nil, scale: 1)
        }
    }

    /// Hides this memtable's version of `id` because a newer memtable now holds one.
    func hide(_ id: UUID) {
        guard let slot = latestSlot.slot(of: id, idOfSlot: { entries[$0].id }), !hidden[slot] else { return }
        if !superseded[slot] && !entries[slot].isTombstone { replacedCount += 1 }
        hidden[slot] = true
    }

    /// Whether `slot` holds the visible version of a live object.
    func isLive(_ slot: Int) -> Bool {
        !superseded[slot] && !hidden[slot] && !entries[slot].isTombstone
    }

    /// Slots from `start` on that hold the visible version of a live object.
    func forEachLiveSlot(from start: Int = 0, _ body: (Int) throws -> Void) rethrows {
        for slot in start..<entries.count where isLive(slot) { try body(slot) }
    }

    /// Every id this memtable holds a version or a deletion of.
    var ids: [UUID] {
        var ids: [UUID] = []
        ids.reserveCapacity(latestSlot.count)
        latestSlot.forEachSlot { ids.append(entries[$0].id) }
        return ids
    }

    /// Whether a flush writes every slot as a row (no version replaced here, no deletion: the
    /// usual append-only ingest), so the slots' vectors are the segment's rows' in order.
    var everySlotIsARow: Bool { supersededCount == 0 && tombstoneCount == 0 }

    /// Slots that a flush writes: the newest version (or tombstone) of each id in this memtable.
    func forEachNewestSlot(_ body: (Int) throws -> Void) rethrows {
        for slot in entries.indices where !superseded[slot] { try body(slot) }
    }

    /// The number of live objects.
    var liveCount: Int {
        var count = 0
        forEachLiveSlot { _ in count += 1 }
        return count
    }

    /// The vector of `slot`, in place (valid until the next write; callers hold the state lock).
    func vectorBuffer(at slot: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: vectors.row(slot), count: dimensions)
    }

    func vector(at slot: Int) -> [Float] {
        Array(vectorBuffer(at: slot))
    }

    /// The object in slot `slot`, with the parts `fields` names (the others empty or 0).
    func object(at slot: Int, fields: ResultFields = .all) -> StoredObject {
        let entry = entries[slot]
        let timestamps = fields.contains(.timestamps)
        return StoredObject(id: entry.id, properties: fields.contains(.properties) ? properties(at: slot) : [:],
                            vector: fields.contains(.vector) ? vector(at: slot) : [],
                            createdAtMilliseconds: timestamps ? entry.createdAt : 0, updatedAtMilliseconds: timestamps ? entry.updatedAt : 0)
    }
}
