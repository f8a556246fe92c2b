import CairnEngine
import Foundation

/// What `repo copy` did.
public struct CopyReport: Codable, Sendable, Hashable {
    /// Backups copied, and those the destination already held.
    public var copied: [String] = []
    public var alreadyThere: [String] = []
    /// Blobs read from the source and stored in the destination (those it held are skipped).
    public var blobsCopied = 0
    public var bytesAdded = 0
    public var seconds = 0.0
}

extension Repository {
    /// Copies backups `ids` (all when nil) of this repository into `destination` (another
    /// repository, with its own keys: every blob is read, checked, and sealed and named again
    /// with the destination's key), for a second copy elsewhere. Blobs the destination holds
    /// are not stored again; each
    /// backup's manifest is written last, so an interrupted copy leaves no partial backup, and
    /// the next copy reuses what was stored. Shared locks on both repositories.
    public func copy(_ ids: [String]? = nil, to destination: Repository, progress handler: ProgressHandler? = nil) async throws -> CopyReport {
        let started = ContinuousClock.now
        return try await withLock(exclusive: false, operation: "copy (source)") {
            try await destination.withLock(exclusive: false, operation: "copy (destination)") {
                var report = CopyReport()
                let present = Set(try await destination.backups().map(\.id))
                let index = try await BlobIndex.load(self)
                let writer = PackWriter(repository: destination, index: try await BlobIndex.load(destination))
                // Blob ids are keyed: the destination names the same bytes differently.
                var renamed: [String: String] = [:]
                let all = try await manifests()
                let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
                var wanted: [BackupManifest] = []
                for id in ids ?? all.map(\.id) {
                    if present.contains(id) {
                        report.alreadyThere.append(id)
                    } else if let manifest = byID[id] {
                        wanted.append(manifest)
                    } else {
                        wanted.append(try await loadBackup(id)) // fails, naming the missing backup
                    }
                }
                let progress = ProgressCounter(totalFiles: wanted.count, totalBytes: wanted.reduce(0) { $0 + $1.files.reduce(0) { $0 + $1.size } },
                                               handler: handler)
                do {
                    for var backup in wanted {
                        let id = backup.id
                        for fileIndex in backup.files.indices {
                            var blobs: [String] = []
                            for blob in backup.files[fileIndex].blobs {
                                defer { progress.advance(bytes: index.location(of: blob)?.plaintextLength ?? 0) }
                                if let name = renamed[blob] {
                                    blobs.append(name)
                                    continue
                                }
                                guard let location = index.location(of: blob) else { throw RepositoryError.missing(object: "blob \(blob) of backup \(id)") }
                                let stored = writer.blobsWritten
                                let name = try await writer.add(try await readBlob(blob, at: location))
                                report.blobsCopied += writer.blobsWritten - stored
                                renamed[blob] = name
                                blobs.append(name)
                            }
                            backup.files[fileIndex].blobs = blobs
                        }
                        try await writer.finish()
                        try await destination.writeBackup(backup)
                        report.copied.append(id)
                        progress.advance(bytes: 0, fileDone: true)
                    }
                } catch {
                    await writer.drain()
                    throw error
                }
                report.bytesAdded = writer.bytesWritten
                report.seconds = (ContinuousClock.now - started).milliseconds / 1000
                return report
            }
        }
    }

    /// Writes a backup's manifest, sealed, as the last step of a backup or a copy.
    func writeBackup(_ manifest: BackupManifest) async throws {
        let sealed = SealedObject.seal(try JSONEncoder.sorted.encode(manifest).bytes, kind: "backup", key: key)
        guard try await backend.create(BackupManifest.objectName(manifest.id), sealed) else {
            throw RepositoryError.invalidArgument("a backup named \(manifest.id) exists already in \(backend.location)")
        }
    }
}
