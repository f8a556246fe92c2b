import CairnVector
import Synchronization

/// The vectors of a memtable's slots, `dimensions` floats per slot in one contiguous block, and
/// each slot's scale. The block is a `GrowableBuffer`, grown with `realloc`: a large block moves
/// by remapping its pages, so growing does not hold an old and a new one at once (a Swift array
/// doubles by copying: twice the vectors resident at that moment).
///
/// Writers append under the engine's state lock; readers that hold that lock read in place.
/// The graph indexer, which does not, copies a slot out with `copy(slot:into:)`, which excludes
/// appends.
final class MemtableVectors: @unchecked Sendable {
    let dimensions: Int
    /// `dimensions` floats per slot, in slot order.
    private var rows: GrowableBuffer<Float>
    /// Each slot's scale (`DistanceMetric.scale(of:)`): what exact scans multiply by.
    private(set) var scales: [Float] = []
    /// Held while the block may move (an append) and while the indexer copies from it.
    private let moving = Mutex(())

    init(dimensions: Int) {
        self.dimensions = dimensions
        rows = GrowableBuffer(capacity: dimensions)
    }

    deinit { rows.deallocate() }

    /// The number of slots.
    var count: Int { rows.count / dimensions }

    /// Appends a slot holding `vector` (zeros when nil) whose scale is `scale`.
    func append(_ vector: UnsafeBufferPointer<Float>?, scale: Float) {
        moving.withLock { _ in
            if let vector {
                precondition(vector.count == dimensions, "memtable vectors have the collection's dimensions")
                rows.append(contentsOf: vector)
            } else {
                rows.append(repeating: 0, count: dimensions)
            }
        }
        scales.append(scale)
    }

    /// The first float of slot `slot`, valid until the next append (callers hold the state lock).
    func row(_ slot: Int) -> UnsafePointer<Float> {
        UnsafePointer(rows.base + slot * dimensions)
    }

    /// The first float of slot 0, valid until the next append: every slot in order, for a frozen
    /// memtable's flush.
    var allRows: UnsafePointer<Float> { UnsafePointer(rows.base) }

    /// Copies slot `slot`'s vector to `destination`, safe against concurrent appends.
    func copy(slot: Int, into destination: UnsafeMutablePointer<Float>) {
        moving.withLock { _ in destination.update(from: rows.base + slot * dimensions, count: dimensions) }
    }
}
