import CairnVector

/// Writes a segment's quantized codes block and maps it back without copying (layout in
/// `SegmentFormat`): what a graph walk compares instead of the full vectors when the
/// collection asks for quantization.
enum SegmentCodes {
    static let headerSize = 16
    static let int8Kind: UInt32 = 1

    /// The block for `rows` vectors (mapped from the segment being written), coded by `quantizer`.
    /// L2 keeps each decoded vector's squared length too.
    static func encode(vectors: UnsafePointer<Float>, rows: Int, quantizer: ScalarQuantizer, metric: DistanceMetric) -> [UInt8] {
        let dimensions = quantizer.dimensions
        let codes = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, rows * dimensions))
        defer { codes.deallocate() }
        for row in 0..<rows { quantizer.encode(vectors + row * dimensions, into: codes + row * dimensions) }
        let withNorms = metric == .l2
        var writer = ByteWriter(capacity: headerSize + 8 * dimensions + (withNorms ? 4 * rows : 0) + 64 + rows * dimensions)
        writer.write(int8Kind)
        writer.write(UInt32(dimensions))
        writer.write(UInt32(rows))
        writer.write(UInt32(withNorms ? 1 : 0))
        for value in quantizer.lower { writer.write(value) }
        for value in quantizer.step { writer.write(value) }
        if withNorms {
            for row in 0..<rows { writer.write(quantizer.decodedSquaredNorm(codes + row * dimensions)) }
        }
        writer.pad(toMultipleOf: SegmentFormat.alignment)
        writer.write(raw: UnsafeRawBufferPointer(start: codes, count: rows * dimensions))
        return writer.bytes
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
