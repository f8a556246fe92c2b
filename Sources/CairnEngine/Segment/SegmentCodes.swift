import CairnVector

/// Writes a segment's quantized codes block and maps it back without copying (layout in
/// `SegmentFormat`): what a graph walk compares instead of the full vectors when the
/// collection asks for quantization.
enum SegmentCodes {
    static let headerSize = 16
    static let int8Kind: UInt32 = 1

    /// Writes the block for `rows` vectors, coded by `quantizer`, through `append`, a slice of
    /// rows at a time (the codes are never all held). Row `i` is the vector at `order[i]` (the
    /// rows' order in the segment). L2 keeps each decoded vector's squared
    /// length too, ahead of the codes: each row is coded once for its length and again when its
    /// code is written, which costs far less than holding every code until the lengths are out.
    static func write(vectors: UnsafePointer<Float>, rows: Int, order: [UInt32], quantizer: ScalarQuantizer,
                      metric: DistanceMetric, to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        let dimensions = quantizer.dimensions
        func vector(_ row: Int) -> UnsafePointer<Float> { vectors + Int(order[row]) * dimensions }
        let sliceRows = max(1, (1 << 20) / dimensions)
        let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: sliceRows * dimensions)
        defer { codes.deallocate() }
        let withNorms = metric == .l2
        var header = ByteWriter(capacity: headerSize + 8 * dimensions + (withNorms ? 4 * rows : 0) + 64)
        header.write(int8Kind)
        header.write(UInt32(dimensions))
        header.write(UInt32(rows))
        header.write(UInt32(withNorms ? 1 : 0))
        for value in quantizer.lower { header.write(value) }
        for value in quantizer.step { header.write(value) }
        if withNorms {
            for row in 0..<rows {
                quantizer.encode(vector(row), into: codes)
                header.write(quantizer.decodedSquaredNorm(codes))
            }
        }
        header.pad(toMultipleOf: SegmentFormat.alignment)
        try header.bytes.withUnsafeBytes(append)
        for first in stride(from: 0, to: rows, by: sliceRows) {
            let count = min(sliceRows, rows - first)
            for row in 0..<count { quantizer.encode(vector(first + row), into: codes + row * dimensions) }
            try append(UnsafeRawBufferPointer(start: codes, count: count * dimensions))
        }
    }

    /// The codes in `block` (which starts on a 64-byte boundary of the mapping); nil for an
    /// empty block. Throws when the block does not match the segment.
    static func map(_ block: UnsafeRawBufferPointer, rows: Int, dimensions: Int, metric: DistanceMetric) throws -> QuantizedVectors? {
        guard !block.isEmpty, let base = block.baseAddress else { return nil }
        var reader = ByteReader(block)
        let kind = try reader.read(UInt32.self)
        let codedDimensions = Int(try reader.read(UInt32.self))
        let codedRows = Int(try reader.read(UInt32.self))
        let withNorms = try reader.read(UInt32.self) == 1
        guard kind == int8Kind, codedDimensions == dimensions, codedRows == rows, withNorms == (metric == .l2) else {
            throw ByteReader.Truncated(offset: 0)
        }
        let floats = 2 * dimensions + (withNorms ? rows : 0)
        let floatBytes = try reader.readRaw(count: floats * 4)
        let codesStart = (headerSize + floats * 4 + SegmentFormat.alignment - 1) / SegmentFormat.alignment * SegmentFormat.alignment
        guard block.count == codesStart + rows * dimensions, let floatBase = floatBytes.baseAddress else {
            throw ByteReader.Truncated(offset: headerSize)
        }
        let parameters = floatBase.assumingMemoryBound(to: Float.self)
        return QuantizedVectors(lower: parameters, step: parameters + dimensions,
                                codes: (base + codesStart).assumingMemoryBound(to: UInt8.self),
                                squaredNorms: withNorms ? parameters + 2 * dimensions : nil, dimensions: dimensions, count: rows)
    }
}
