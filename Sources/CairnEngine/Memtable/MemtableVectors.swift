import CairnVector

/// The vectors of a memtable's slots, `dimensions` floats per slot in one contiguous block, and
/// each slot's scale. The block is a `GrowableBuffer`, grown with `realloc`: a large block moves
/// by remapping its pages, so growing does not hold an old and a new one at once (a Swift array
/// doubles by copying: twice the vectors resident at that moment).
///
/// Writers append under the engine's state lock; readers that hold that lock read in place. The
/// memtable's live graph reads them in place too, without that lock: appends go through
/// `MemtableGraph.append`, which makes the graph wait out a growth that moves the block.
final class MemtableVectors: @unchecked Sendable {
    let dimensions: Int
    /// `dimensions` floats per slot, in slot order.
    private var rows: GrowableBuffer<Float>
    /// Each slot's scale (`DistanceMetric.scale(of:)`): what exact scans multiply by.
    private(set) var scales: [Float] = []

    init(dimensions: Int) {
        self.dimensions = dimensions
        rows = GrowableBuffer(capacity: dimensions)
    }

    deinit { rows.deallocate() }

    /// The number of slots.
    var count: Int { rows.count / dimensions }

    /// Whether the next append moves the block (it has no room for another slot).
    var isFull: Bool { rows.count + dimensions > rows.capacity }

    /// Doubles the room for slots; the block may move.
    func grow() {
        rows.reserve(rows.capacity)
    }

    /// Appends a slot holding `vector` (zeros when nil) whose scale is `scale`.
    func append(_ vector: UnsafeBufferPointer<Float>?, scale: Float) {
        if let vector {
            precondition(vector.count == dimensions, "memtable vectors have the collection's dimensions")
            rows.append(contentsOf: vector)
        } else {
            rows.append(repeating: 0, count: dimensions)
        }
        scales.append(scale)
    }

    /// The first float of slot `slot`, valid until the block moves (callers hold the state lock).
    func row(_ slot: Int) -> UnsafePointer<Float> {
        UnsafePointer(rows.base + slot * dimensions)
    }

    /// The first float of slot 0, valid until the block moves: every slot in order.
    var allRows: UnsafePointer<Float> { UnsafePointer(rows.base) }
}
