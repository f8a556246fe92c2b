import Foundation

/// Maps segment files named by manifest records and checks them against the record.
struct SegmentLoader: Sendable {
    let fs: any FileSystem
    let directory: String

    /// Maps and checks a segment file named by a manifest record.
    func load(_ record: Manifest.SegmentRecord, schema: CollectionSchema) throws -> LoadedSegment {
        let path = directory + "/" + record.relativePath
        guard fs.exists(path) else {
            throw CairnError.corruption(file: path, offset: 0, detail: "segment listed in the manifest is missing")
        }
        let segment = try Segment(file: try fs.map(path), id: record.id, schema: schema)
        guard segment.fileSize == record.bytes else {
            throw CairnError.corruption(file: path, offset: segment.fileSize,
                                        detail: "segment has \(segment.fileSize) bytes, the manifest says \(record.bytes)")
        }
        guard segment.rowCount == record.rows, segment.tombstoneCount == record.tombstones else {
            throw CairnError.corruption(file: path, offset: 16, detail: "segment header disagrees with the manifest")
        }
        return LoadedSegment(record: record, segment: segment)
    }
}
