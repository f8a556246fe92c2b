import Foundation

/// A recovery state — a checkpoint manifest and the WAL files after it — cut down to a scope
/// and renamed, as a partial backup stores it and a partial restore builds it.
///
/// The cut state is a state of its own: its checkpoint is the source's last LSN, its catalog
/// the source's catalog at that LSN cut to the scope, its segments those of the covered
/// partitions' current incarnations (under the new names), and its log one WAL file holding
/// the covered partitions' object records after the source's checkpoint, in their order,
/// re-encoded under the new names and numbered on from the new checkpoint. Records written to
/// an earlier incarnation of a partition (before it was dropped and created again) are left
/// out, as are catalog records (their result is in the catalog).
package struct ScopedState: Sendable {
    /// The cut manifest.
    package var manifest: Manifest
    /// The WAL files of the cut state, in the output directory (one file).
    package var walFiles: [String]
    /// The scope as resolved in the source's catalog at its last LSN.
    package var scope: ResolvedScope
    /// The source segments the cut state keeps, each with the path it gets.
    package var segments: [(source: Manifest.SegmentRecord, cut: Manifest.SegmentRecord)]

    /// Cuts the state of `manifest` and the WAL files in `walDirectory` (named as in a data
    /// directory or a snapshot) to `scope`, writing the cut log into `outputDirectory` (which
    /// must exist and hold no WAL file 1). Throws if the scope names what the state does not
    /// hold, or the log does not read.
    package static func cut(manifest: Manifest, walDirectory: String, scope: PartitionScope, into outputDirectory: String,
                            fs: any FileSystem) throws -> ScopedState {
        let chain = try WALChain(fs: fs, walDirectory: walDirectory, manifest: manifest, isLive: false)
        var catalog = manifest.catalog
        var attached = manifest // with the segments of tenants attached after the checkpoint
        let lastLSN = try chain.scan { lsn, payload, path, offset in
            guard case let .catalog(change) = try decode(payload, lsn: lsn, path: path, offset: offset) else { return }
            if case let .attach(attachment) = change { attached = attached.attaching(attachment.segments, lsn: lsn) }
            do { try catalog.apply(change, lsn: lsn) } catch {
                throw CairnError.corruption(file: path, offset: offset, detail: "WAL record \(lsn) does not apply: \(error)")
            }
        }.lastLSN
        let resolved = try scope.resolve(in: catalog)
        let outputName = WALFormat.fileName(1)
        try writeLog(of: chain, keeping: resolved, startingAfter: lastLSN, to: outputDirectory, fs: fs)
        var segments: [(source: Manifest.SegmentRecord, cut: Manifest.SegmentRecord)] = []
        for record in attached.segments where resolved.covers(record.partition) && catalog.incarnation(of: record.partition) == record.incarnation {
            var cut = record
            cut.partition = resolved.renamed(record.partition)
            segments.append((record, cut))
        }
        let cutManifest = Manifest(databaseID: manifest.databaseID, sequence: manifest.sequence, checkpointLSN: lastLSN, walStartSequence: 1,
                                   restoredWAL: nil, catalog: resolved.catalog, segments: segments.map(\.cut), writtenAt: Clock.milliseconds())
        return ScopedState(manifest: cutManifest, walFiles: [outputName], scope: resolved, segments: segments)
    }

    /// Writes the covered object records of `chain`, renamed and numbered from
    /// `checkpoint + 1`, into WAL file 1 of `directory`, sealed (the database built from it
    /// continues in file 2), fsynced.
    private static func writeLog(of chain: WALChain, keeping scope: ResolvedScope, startingAfter checkpoint: UInt64,
                                 to directory: String, fs: any FileSystem) throws {
        let catalog = scope.source
        let writer = try WALWriter(fs: fs, directory: directory, sequence: 1, validLength: nil)
        var buffer = ByteWriter(capacity: 1 << 20)
        var lsn = checkpoint
        func flush() throws {
            try buffer.bytes.withUnsafeBytes { try writer.append($0) }
            buffer = ByteWriter(capacity: 1 << 20)
        }
        do {
            _ = try chain.scan { sourceLSN, payload, path, offset in
                let kept: Mutation
                switch try decode(payload, lsn: sourceLSN, path: path, offset: offset) {
                case .catalog:
                    return
                case let .putObjects(key, objects):
                    guard isCurrent(key, at: sourceLSN, in: catalog, scope: scope) else { return }
                    kept = .putObjects(scope.renamed(key), objects)
                case let .deleteObjects(key, ids, time):
                    guard isCurrent(key, at: sourceLSN, in: catalog, scope: scope) else { return }
                    kept = .deleteObjects(scope.renamed(key), ids, time: time)
                }
                var encoded = ByteWriter(capacity: payload.count + 64)
                try kept.encode(into: &encoded)
                lsn += 1
                encoded.bytes.withUnsafeBytes { WALFormat.appendRecord(lsn: lsn, payload: $0, to: &buffer) }
                if buffer.count >= 1 << 20 { try flush() }
            }
            buffer.write(raw: WALFormat.controlRecord(.sealed(next: 2)))
            try flush()
            writer.close()
        } catch {
            writer.close()
            throw error
        }
    }

    /// Whether a record of partition `key` at `lsn` is covered and belongs to the partition's
    /// current incarnation (was written after its collection and tenant were last created).
    private static func isCurrent(_ key: PartitionKey, at lsn: UInt64, in catalog: Catalog, scope: ResolvedScope) -> Bool {
        guard scope.covers(key), let incarnation = catalog.incarnation(of: key) else { return false }
        return lsn > max(incarnation.collectionLSN, incarnation.tenantLSN)
    }

    private static func decode(_ payload: UnsafeRawBufferPointer, lsn: UInt64, path: String, offset: Int) throws -> Mutation {
        do { return try Mutation.decode(payload) } catch {
            throw CairnError.corruption(file: path, offset: offset, detail: "WAL record \(lsn) cannot be decoded")
        }
    }
}
