import Foundation

/// A frozen memtable whose slots are exactly its rows (`Memtable.everySlotIsARow`: no
/// tombstone, nothing superseded), read in place as the rows of the segment its flush writes.
struct MemtableRows: SegmentRowSource {
    let memtable: Memtable

    init?(_ memtable: Memtable) {
        guard memtable.everySlotIsARow else { return nil }
        self.memtable = memtable
    }

    var count: Int { memtable.entries.count }
    var vectors: UnsafePointer<Float> { memtable.vectors.allRows }
    func id(ofRow row: Int) -> UUID { memtable.entries[row].id }

    func timestamps(ofRow row: Int) -> (createdAt: Int64, updatedAt: Int64) {
        let entry = memtable.entries[row]
        return (entry.createdAt, entry.updatedAt)
    }

    func withEncodedProperties<Result>(ofRow row: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try memtable.withEncodedProperties(at: row, body)
    }
}
