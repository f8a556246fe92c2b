import Foundation

/// Rows that the caller of a `SegmentBuilder` keeps, unchanged, until the segment is finished:
/// a memtable being flushed whose slots are exactly the rows. The builder then reads ids,
/// timestamps, encoded properties and vectors from here when it writes the segment, instead of
/// keeping copies of its own.
protocol SegmentRowSource {
    /// The rows' vectors in row order, contiguous.
    var vectors: UnsafePointer<Float> { get }
    func id(ofRow row: Int) -> UUID
    func timestamps(ofRow row: Int) -> (createdAt: Int64, updatedAt: Int64)
    /// Runs `body` over the row's properties as `PropertyCoding` encodes them.
    func withEncodedProperties<Result>(ofRow row: Int, _ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result
}
