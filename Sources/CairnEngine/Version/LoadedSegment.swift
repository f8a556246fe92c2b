import Foundation

/// A segment of a partition as a version holds it: the manifest record, the mapped file (nil
/// while the tenant is inactive) and the rows hidden by newer versions elsewhere.
///
/// The record and the file never change. The dead rows do: every write that replaces or
/// deletes an id marks its older row, under the engine's state lock. A search copies them
/// (a copy-on-write value) with the segment in a `SegmentView`.
final class LoadedSegment: @unchecked Sendable {
    let record: Manifest.SegmentRecord
    let segment: Segment?
    /// Rows whose id has a newer version or a deletion in a newer segment or memtable.
    private(set) var deadRows: Bitmap
    /// The number of rows in `deadRows`.
    private(set) var deadCount = 0

    init(record: Manifest.SegmentRecord, segment: Segment?) {
        self.record = record
        self.segment = segment
        deadRows = Bitmap(count: segment?.rowCount ?? 0)
    }

    func markDead(_ row: Int) {
        guard !deadRows[row] else { return }
        deadRows[row] = true
        deadCount += 1
    }

    func replaceDeadRows(_ rows: Bitmap) {
        deadRows = rows
        deadCount = rows.cardinality
    }
}
