import Foundation

/// The on-disk format of a segment file (`segments/<collection>/<tenant>/<id>.seg`), version 4.
///
/// ```
/// header (64 bytes): "CAIRNSEG" | u32 version | u32 dimensions | u32 rows | u32 tombstones | zero padding
/// blocks, each starting on a 64-byte boundary (so vectors can be used straight from the mapping).
/// Rows are in any order the writer chose (with a graph, its locality order; lookups go by id):
///   vectors     rows × dimensions × f32, row-major, exactly as written
///   ids         rows × 16-byte UUID, in row order
///   idOrder     rows × u32: row numbers sorted by id (binary search for lookups)
///   timestamps  rows × (i64 createdAt, i64 updatedAt), ms since the epoch
///   propertyOffsets (rows + 1) × u64 into propertyData; propertyData: `PropertyCoding` per row
///   tombstones  sorted 16-byte UUIDs deleted by this segment (they hide older segments' rows)
///   invertedIndex  u32 property count; per property: string name, u32 key count,
///                  (keys + 1) × u32 key offsets, key bytes, (keys + 1) × u32 posting offsets,
///                  postings (u32 rows, ascending per key). Keys are `IndexKey` bytes, sorted.
///   graph       empty for small segments (searched exactly); otherwise the HNSW graph over the
///               rows, used in place from the mapping: u32 M, u32 efConstruction, i32 maxLevel,
///               u32 entryPoint, u32 rows, u32 upper-link count, levels (rows × u8, zero-padded to
///               4 bytes), upperStart (rows × u32), upperLinks, layer0 (rows × (1 + 2M) × u32)
///   scales      cosine: rows × f32, each vector's inverse norm (`DistanceMetric.scale(of:)`);
///               empty for other metrics
///   codes       empty unless the collection quantizes and the segment has a graph; int8: u32 kind (1),
///               u32 dimensions, u32 rows, u32 hasNorms (1 for L2), lower (dimensions × f32), step
///               (dimensions × f32), L2 only: each decoded vector's squared length (rows × f32),
///               zero padding to a 64-byte boundary of the block, codes (rows × dimensions × u8)
///   sketches    empty unless the segment has a graph, the collection does not quantize and its
///               metric is cosine or L2; sign sketches (`SignSketches`): u32 kind (1), u32
///               dimensions, u32 rows, u32 stride, center (dimensions rounded up to 32 × f32),
///               zero padding to a 64-byte boundary of the block, records (rows × stride bytes)
/// footer: per block u32 kind | u64 offset | u64 length | u32 CRC32C;
///         then u32 block count | u32 CRC32C of the footer entries | "CAIRNEND"
/// ```
/// A segment is written once, fsynced, then only read and eventually deleted. Version 1 had no
/// scales block and stored cosine vectors normalised; it is still read (its vectors are unit
/// length, so their scale is 1). Version 2 had no codes block; it is still read (walks compare
/// its full vectors). Version 3 had no sketches block; it is still read (walks over full vectors
/// read every neighbour's).
enum SegmentFormat {
    /// Whether `name` is a segment file as the engine names them: 16 hex digits and `.seg`.
    static func isSegmentFileName(_ name: String) -> Bool {
        name.count == 20 && name.hasSuffix(".seg") && name.dropLast(4).allSatisfy(\.isHexDigit)
    }

    /// Appended to a segment's name for the spill file that holds its property data while it is
    /// built (deleted when it is finished, or as garbage at the next open).
    static let spillSuffix = ".spill"

    /// Whether `name` is the spill file of a segment being built.
    static func isSpillFileName(_ name: String) -> Bool {
        name.hasSuffix(spillSuffix) && isSegmentFileName(String(name.dropLast(spillSuffix.count)))
    }

    static let magic: [UInt8] = Array("CAIRNSEG".utf8)
    static let endMagic: [UInt8] = Array("CAIRNEND".utf8)
    static let version: UInt32 = 4
    static let headerSize = 64
    static let alignment = 64
    static let footerEntrySize = 24
    static let trailerSize = 16
    /// Segments with fewer rows get no graph: an exact scan of them is as fast as a graph search.
    static let graphThreshold = 2048

    enum Block: UInt32, CaseIterable {
        case vectors = 1, ids, idOrder, timestamps, propertyOffsets, propertyData, tombstones, invertedIndex, graph, scales, codes, sketches
    }

    /// The blocks a file of `version` has.
    static func blockCount(version: UInt32) -> Int? {
        switch version {
        case 1: Block.allCases.count - 3
        case 2: Block.allCases.count - 2
        case 3: Block.allCases.count - 1
        case 4: Block.allCases.count
        default: nil
        }
    }
}
