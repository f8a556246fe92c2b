import Foundation
import Synchronization

/// The vectors of a memtable's slots, `dimensions` floats per slot in one contiguous block, and
/// each slot's scale. The block grows with `realloc`, which moves large blocks by remapping
/// their pages instead of copying them, so growing a large block does not hold an old and a new
/// one at once (a Swift array doubles by copying: twice the vectors resident at that moment).
///
/// Writers append under the engine's state lock; readers that hold that lock read in place.
/// The graph indexer, which does not, copies a slot out with `copy(slot:into:)`, which excludes
/// appends.
final class MemtableVectors: @unchecked Sendable {
    let dimensions: Int
    private var storage: UnsafeMutablePointer<Float>?
    private var capacity = 0
    /// The number of slots.
    private(set) var count = 0
    /// Each slot's scale (`DistanceMetric.scale(of:)`): what exact scans multiply by.
    private(set) var scales: [Float] = []
    /// Held while the block may move (an append) and while the indexer copies from it.
    private let moving = Mutex(())

    init(dimensions: Int) {
        self.dimensions = dimensions
    }

    deinit { free(storage) }

    /// Appends a slot holding `vector` (zeros when nil) whose scale is `scale`.
    func append(_ vector: UnsafeBufferPointer<Float>?, scale: Float) {
        moving.withLock { _ in
            if count == capacity { grow() }
            let row = storage! + count * dimensions
            if let vector {
                precondition(vector.count == dimensions, "memtable vectors have the collection's dimensions")
                row.update(from: vector.baseAddress!, count: dimensions)
            } else {
                row.update(repeating: 0, count: dimensions)
            }
            count += 1
        }
        scales.append(scale)
    }

    /// The first float of slot `slot`, valid until the next append (callers hold the state lock).
    func row(_ slot: Int) -> UnsafePointer<Float> {
        UnsafePointer(storage! + slot * dimensions)
    }

    /// The first float of slot 0, valid until the next append: every slot in order, for a frozen
    /// memtable's flush.
    var allRows: UnsafePointer<Float>? { storage.map { UnsafePointer($0) } }

    /// Copies slot `slot`'s vector to `destination`, safe against concurrent appends.
    func copy(slot: Int, into destination: UnsafeMutablePointer<Float>) {
        moving.withLock { _ in destination.update(from: storage! + slot * dimensions, count: dimensions) }
    }

    private func grow() {
        let newCapacity = max(64, capacity + capacity / 2)
        guard let grown = realloc(storage, newCapacity * dimensions * MemoryLayout<Float>.stride) else {
            fatalError("out of memory growing a memtable's vectors to \(newCapacity) rows")
        }
        storage = grown.assumingMemoryBound(to: Float.self)
        capacity = newCapacity
    }
}
