import CairnEngine
import Foundation

/// What a restore did and what it proved.
public struct RestoreReport: Codable, Sendable, Hashable {
    public var backup: String
    public var target: String
    public var files: Int
    public var bytes: Int
    /// Partitions whose object count was compared with the backup's summary (all matched).
    public var partitionsVerified: Int
    public var objectsVerified: Int
    /// Content fingerprints recomputed row by row and golden queries asked again (all matched).
    public var fingerprintsVerified: Int
    public var goldenQueriesVerified: Int
    public var seconds: Double
}

extension Repository {
    /// Restores backup `id` into `target`, which must not exist or be empty: every file is
    /// written from its blobs (each checked against its keyed id, each file against its size
    /// and CRC32C) and fsynced, the database is assembled under a temporary name and renamed
    /// into place, then opened and compared with the backup's summary before success is
    /// reported. The restored database gets a new database id. If the comparison fails, the
    /// restored directory is removed (nothing was there before) and the error says what differed.
    public func restore(_ id: String, to target: String, progress: ProgressHandler? = nil) async throws -> RestoreReport {
        try await restore(id, to: target, fileSystem: LocalFileSystem(), progress: progress)
    }

    /// `restore(_:to:)` through another file system (the crash simulator in tests).
    package func restore(_ id: String, to target: String, fileSystem fs: any FileSystem,
                         progress handler: ProgressHandler? = nil) async throws -> RestoreReport {
        try await withLock(exclusive: false, operation: "restore") {
            let started = ContinuousClock.now
            let backup = try await loadBackup(id)
            try Self.checkPaths(backup)
            let index = try await BlobIndex.load(self)
            let files = Dictionary(backup.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            let progress = ProgressCounter(totalFiles: backup.files.count, totalBytes: backup.files.reduce(0) { $0 + $1.size }, handler: handler)
            try await Engine.createDatabase(at: target, from: backup.manifest, walFiles: backup.walFiles, fs: fs) { relativePath, destination in
                guard let file = files[relativePath] else {
                    throw RepositoryError.damaged(object: BackupManifest.objectName(id), reason: "it lists no blobs for \(relativePath)")
                }
                try await FileParts.restore(file, to: destination, fs: fs, repository: self, index: index, progress: progress)
            }
            var options = EngineOptions()
            options.fileSystem = fs
            options.createIfMissing = false
            let verified: Verified
            do {
                verified = try await Self.verify(target, against: backup, options: options)
            } catch {
                try? fs.removeTree(target)
                throw error
            }
            return RestoreReport(backup: id, target: target, files: backup.files.count, bytes: backup.files.reduce(0) { $0 + $1.size },
                                 partitionsVerified: verified.partitions, objectsVerified: verified.objects,
                                 fingerprintsVerified: verified.fingerprints, goldenQueriesVerified: verified.queries,
                                 seconds: (ContinuousClock.now - started).milliseconds / 1000)
        }
    }

    /// Opens the restored database and compares every digested partition with the summary:
    /// object count, content fingerprint (recomputed row by row) and golden queries.
    private static func verify(_ target: String, against backup: BackupManifest, options: EngineOptions) async throws -> Verified {
        let engine = try await Engine.open(at: target, options: options)
        var verified = Verified()
        do {
            for partition in backup.summary {
                guard let expected = partition.objects else { continue }
                let tenant = partition.tenant == PartitionKey.defaultTenant ? nil : partition.tenant
                let queries = partition.goldenQueries ?? []
                let found = try engine.digest(collection: partition.collection, tenant: tenant, goldenQueries: queries.map(\.queryObject))
                func mismatch(_ what: String) -> RepositoryError {
                    .damaged(object: BackupManifest.objectName(backup.id), reason: "the restored \(partition.collection)/\(partition.tenant) \(what)")
                }
                guard found.objects == expected else { throw mismatch("holds \(found.objects) objects, the backup recorded \(expected)") }
                if let fingerprint = partition.fingerprint {
                    guard found.fingerprint == fingerprint else {
                        throw mismatch("has content fingerprint \(found.fingerprint), the backup recorded \(fingerprint)")
                    }
                    verified.fingerprints += 1
                }
                for query in queries {
                    guard let answer = found.goldenQueries.first(where: { $0.queryObject == query.queryObject }),
                          query.isAnswered(by: answer.hits) else {
                        throw mismatch("answers the golden query of object \(query.queryObject) differently from the backup")
                    }
                    verified.queries += 1
                }
                verified.partitions += 1
                verified.objects += found.objects
            }
        } catch {
            await engine.close()
            throw error
        }
        await engine.close()
        return verified
    }

    private struct Verified {
        var partitions = 0, objects = 0, fingerprints = 0, queries = 0
    }

    /// Refuses a backup whose file paths would leave the target: absolute paths, `..`, `.` or
    /// empty components. Checked before anything is written.
    static func checkPaths(_ backup: BackupManifest) throws {
        let paths = backup.files.map(\.path) + backup.manifest.segments.map(\.relativePath) + backup.walFiles.map { "wal/" + $0 }
        for path in paths {
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !components.isEmpty,
                  components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") }) else {
                throw RepositoryError.damaged(object: BackupManifest.objectName(backup.id), reason: "it names the path \(path), which leaves the target")
            }
        }
    }
}
