import Foundation

/// The write side of one (collection, tenant) partition: the live memtable and the memtables
/// being flushed. Its segments belong to the engine's current `Version`; `PartitionView`
/// joins the two. Guarded by the engine's state lock.
final class PartitionData: @unchecked Sendable {
    let key: PartitionKey
    let incarnation: PartitionIncarnation
    /// The collection's schema; replaced when its search settings change (`tuneCollection`).
    var schema: CollectionSchema
    /// Whether the partition's segments are mapped (false while its tenant is inactive).
    var isLoaded: Bool
    var memtable: Memtable
    /// Memtables frozen for a flush, oldest first.
    var frozen: [Memtable] = []

    init(key: PartitionKey, incarnation: PartitionIncarnation, schema: CollectionSchema, isLoaded: Bool) {
        self.key = key
        self.incarnation = incarnation
        self.schema = schema
        self.isLoaded = isLoaded
        memtable = Memtable(schema: schema)
    }

    /// Memtables newest first: the live one, then the frozen ones.
    var memtablesNewestFirst: [Memtable] {
        var tables: [Memtable] = []
        tables.reserveCapacity(1 + frozen.count)
        tables.append(memtable)
        tables.append(contentsOf: frozen.reversed())
        return tables
    }

    /// Drops the vectors still waiting for the indexer (the partition is going away).
    func discardUnlinkedVectors() {
        for table in memtablesNewestFirst { table.graph.discardQueued() }
    }
}
