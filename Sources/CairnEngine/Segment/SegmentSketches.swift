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

    /// Writes the block for `rows` vectors through `append`, a slice of rows at a time, unless
    /// sketches would rule out too few of `graph`'s reads (`SignSketches.minimumScreeningShare`;
    /// the block then stays empty). Row `i` is the vector at `order[i]`; `scale(j)` is what the
    /// vector at `vectors + j·dimensions` (node `j` of `graph`) is multiplied by before comparing
    /// (its inverse norm for cosine, 1 otherwise).
    static func write(vectors: UnsafePointer<Float>, rows: Int, dimensions: Int, graph: HNSWIndex, order: [UInt32],
                      scale: (Int) -> Float, to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let padded = SignSketches.paddedDimensions(dimensions), stride = SignSketches.stride(dimensions: dimensions)
        let center = UnsafeMutablePointer<Float>.allocate(capacity: padded)
        defer { center.deallocate() }
        SignSketches.center(of: vectors, rows: rows, dimensions: dimensions, scale: scale, into: center)
        guard graph.sketchScreeningShare(center: center) >= SignSketches.minimumScreeningShare else { return }
        var header = ByteWriter(capacity: headerSize + padded * 4 + 64)
        header.write(signKind)
        header.write(UInt32(dimensions))
        header.write(UInt32(rows))
        header.write(UInt32(stride))
        for d in 0..<padded { header.write(center[d]) }
        header.pad(toMultipleOf: SegmentFormat.alignment)
        try header.bytes.withUnsafeBytes(append)
        let sliceRows = max(1, (1 << 20) / stride)
        let records = UnsafeMutableRawPointer.allocate(byteCount: sliceRows * stride, alignment: 64)
        defer { records.deallocate() }
        for first in Swift.stride(from: 0, to: rows, by: sliceRows) {
            let count = min(sliceRows, rows - first)
            for row in 0..<count {
                let source = Int(order[first + row])
                SignSketches.encode(vectors + source * dimensions, scale: scale(source), center: center,
                                    dimensions: dimensions, into: records + row * stride)
            }
            try append(UnsafeRawBufferPointer(start: records, count: count * stride))
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
