import CairnVector

/// Writes a segment's sketches block and maps it back without copying (layout in
/// `SegmentFormat`): the sign sketches (`SignSketches`) that let a graph walk over full vectors
/// skip reading most of them.
enum SegmentSketches {
    static let headerSize = 16
    static let signKind: UInt32 = 1

    /// Whether a segment of a collection with `metric` and `quantization` gets sketches (with a
    /// graph): walks over full vectors use them; walks over codes do not need them.
    static func apply(to metric: DistanceMetric, quantization: VectorQuantization?) -> Bool {
        quantization == nil && SignSketches.supports(metric)
    }

    /// Writes the block for `graph`'s nodes through `append`, a slice of rows at a time (row `i`
    /// is node `order[i]`), unless sketches would rule out too few of its walks' reads
    /// (`SignSketches.minimumScreeningShare`; the block then stays empty). Encodes on `threads` threads.
    static func write(graph: HNSWIndex, order: [UInt32], threads: Int, to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let dimensions = graph.dimensions, rows = graph.count
        let padded = SignSketches.paddedDimensions(dimensions), stride = SignSketches.stride(dimensions: dimensions)
        let center = UnsafeMutablePointer<Float>.allocate(capacity: padded)
        let records = UnsafeMutableRawPointer.allocate(byteCount: max(1, rows * stride), alignment: 64)
        defer {
            center.deallocate()
            records.deallocate()
        }
        graph.encodeSketches(center: center, records: records, threads: threads)
        let sketches = SignSketches(center: center, records: records, dimensions: dimensions, count: rows)
        guard graph.sketchScreeningShare(sketches) >= SignSketches.minimumScreeningShare else { return }
        var header = ByteWriter(capacity: headerSize + padded * 4 + 64)
        header.write(signKind)
        header.write(UInt32(dimensions))
        header.write(UInt32(rows))
        header.write(UInt32(stride))
        for d in 0..<padded { header.write(center[d]) }
        header.pad(toMultipleOf: SegmentFormat.alignment)
        try header.bytes.withUnsafeBytes(append)
        let sliceRows = max(1, (1 << 20) / stride)
        let slice = UnsafeMutableRawPointer.allocate(byteCount: sliceRows * stride, alignment: 64)
        defer { slice.deallocate() }
        for first in Swift.stride(from: 0, to: rows, by: sliceRows) {
            let count = min(sliceRows, rows - first)
            for row in 0..<count {
                (slice + row * stride).copyMemory(from: records + Int(order[first + row]) * stride, byteCount: stride)
            }
            try append(UnsafeRawBufferPointer(start: slice, count: count * stride))
        }
    }

    /// The sketches in `block` (which starts on a 64-byte boundary of the mapping); nil for an
    /// empty block. Throws when the block does not match the segment.
    static func map(_ block: UnsafeRawBufferPointer, rows: Int, dimensions: Int) throws -> SignSketches? {
        guard !block.isEmpty, let base = block.baseAddress else { return nil }
        var reader = ByteReader(block)
        let kind = try reader.read(UInt32.self)
        let sketchedDimensions = Int(try reader.read(UInt32.self))
        let sketchedRows = Int(try reader.read(UInt32.self))
        let stride = Int(try reader.read(UInt32.self))
        guard kind == signKind, sketchedDimensions == dimensions, sketchedRows == rows,
              stride == SignSketches.stride(dimensions: dimensions) else { throw ByteReader.Truncated(offset: 0) }
        let padded = SignSketches.paddedDimensions(dimensions)
        let centerBytes = try reader.readRaw(count: padded * 4)
        let recordsStart = (headerSize + padded * 4 + SegmentFormat.alignment - 1) / SegmentFormat.alignment * SegmentFormat.alignment
        guard block.count == recordsStart + rows * stride, let center = centerBytes.baseAddress else {
            throw ByteReader.Truncated(offset: headerSize)
        }
        return SignSketches(center: center.assumingMemoryBound(to: Float.self), records: base + recordsStart,
                            dimensions: dimensions, count: rows)
    }
}
