import CairnVector
import Foundation

/// One search result: the object and its distance to the query (smaller is closer).
public struct SearchHit: Sendable, Hashable, Codable {
    /// The object found.
    public var object: StoredObject
    /// Its distance to the query under the collection's metric (smaller is closer).
    public var distance: Float

    package init(object: StoredObject, distance: Float) {
        self.object = object
        self.distance = distance
    }
}

/// Which parts of each found object a search returns besides its id and distance: a caller
/// that needs only ids pays for no property decoding and no vector copy.
public struct ResultFields: OptionSet, Sendable, Hashable, Codable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Property values (otherwise `properties` is empty).
    public static let properties = ResultFields(rawValue: 1)
    /// The vector (otherwise `vector` is empty).
    public static let vector = ResultFields(rawValue: 2)
    /// Creation and update times (otherwise 0).
    public static let timestamps = ResultFields(rawValue: 4)
    public static let all: ResultFields = [.properties, .vector, .timestamps]
}

extension Engine {
    /// The newest version of an object, or nil when it does not exist or was deleted.
    package func get(_ id: UUID, collection: String, tenant: String? = nil) throws -> StoredObject? {
        try state.withLock { state in try state.partition(collection, tenant: tenant).object(id) }
    }

    /// The `limit` objects closest to `vector` that satisfy `filter`, closest first. Large
    /// segments are searched through their HNSW graph with a beam of `ef` (default: the
    /// collection's `efSearch`), as are memtables as far as their live graph reaches; small
    /// sources and very selective filters are scanned exactly. Under a filter, `ef` prices the
    /// walk like an unfiltered one (see `PartitionView.beginSearch`).
    /// Each hit carries the parts of its object `fields` names.
    package func search(_ vector: [Float], collection: String, tenant: String? = nil, limit: Int,
                       filter: Filter? = nil, ef: Int? = nil, fields: ResultFields = .all) throws -> [SearchHit] {
        guard (1...10_000).contains(limit) else { throw CairnError.invalidArgument("limit must be between 1 and 10000, got \(limit)") }
        if let ef, !(1...4096).contains(ef) { throw CairnError.invalidArgument("ef must be between 1 and 4096, got \(ef)") }
        return try state.withLock { state in
            try state.partition(collection, tenant: tenant).beginSearch(vector, limit: limit, filter: filter, ef: ef, fields: fields,
                                                                        screenedScanBytes: options.screenedScanBytes)
        }.finish()
    }

    /// The number of live objects that satisfy `filter` (all when nil).
    package func count(collection: String, tenant: String? = nil, filter: Filter? = nil) throws -> Int {
        try state.withLock { state in
            let partition = try state.partition(collection, tenant: tenant)
            guard let filter else { return partition.liveCount }
            let bound = try BoundFilter(filter, schema: partition.schema)
            var count = 0
            for table in partition.memtablesNewestFirst {
                table.forEachLiveSlot { slot in if table.matches(bound, at: slot) { count += 1 } }
            }
            for loaded in partition.segments {
                guard let segment = loaded.segment else { continue }
                let match = segment.matching(bound)
                guard loaded.deadCount > 0 else {
                    count += match.count
                    continue
                }
                var allowed = match.rows
                allowed.subtract(loaded.deadRows)
                count += allowed.cardinality
            }
            return count
        }
    }

    /// Up to `limit` live objects in id order, starting after `cursor` (for paging through a
    /// partition). Each segment contributes its first `limit` live rows after the cursor, found
    /// by binary search in its sorted id order, so a page costs O(limit) per segment (plus the
    /// memtables), not a sort of the whole partition.
    package func scroll(collection: String, tenant: String? = nil, after cursor: UUID? = nil, limit: Int) throws -> [StoredObject] {
        guard limit >= 1 else { throw CairnError.invalidArgument("limit must be at least 1, got \(limit)") }
        return try state.withLock { state in
            let partition = try state.partition(collection, tenant: tenant)
            let start = cursor.map(UUIDOrder.init)
            var candidates: [(key: UUIDOrder, id: UUID)] = []
            for table in partition.memtablesNewestFirst {
                table.forEachLiveSlot { slot in
                    let id = table.entries[slot].id, key = UUIDOrder(id)
                    if start.map({ $0 < key }) ?? true { candidates.append((key, id)) }
                }
            }
            for loaded in partition.segments {
                guard let segment = loaded.segment else { continue }
                var position = segment.idOrderPosition(after: start), taken = 0
                while position < segment.rowCount, taken < limit {
                    let row = segment.row(atIDOrderPosition: position)
                    if !loaded.deadRows[row] {
                        let id = segment.id(at: row)
                        candidates.append((UUIDOrder(id), id))
                        taken += 1
                    }
                    position += 1
                }
            }
            // A live version exists in one source only, so no id appears twice.
            return try candidates.sorted { $0.key < $1.key }.prefix(limit).compactMap { try partition.object($0.id) }
        }
    }
}
