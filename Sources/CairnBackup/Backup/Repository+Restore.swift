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
    /// Files of the collections' declared sources written under `sources/`.
    public var sourceFiles: Int
    /// What a partial or renaming restore covered (nil: the whole backup under its names).
    public var scope: PartitionScope?
    /// What the person should know about layers a scope or rename changed (aliases that
    /// followed a renamed collection or were dropped, roles whose permissions followed).
    public var notes: [String]
    public var seconds: Double
}

extension Repository {
    /// Restores backup `id` into `target`, which must not exist or be empty: every file is
    /// written from its blobs (each checked against its keyed id, each file against its size
    /// and CRC32C) and fsynced, the database is assembled under a temporary name and renamed
    /// into place, then opened and compared with the backup's summary before success is
    /// reported. The restored database gets a new database id. If the comparison fails, the
    /// restored directory is removed (nothing was there before) and the error says what differed.
    ///
    /// A `scope` restores part of the backup (some collections, or some tenants of one) and
    /// can rename collections and tenants: only the files it covers are fetched, the log is
    /// cut to it, and the restored partitions are proven under their new names.
    public func restore(_ id: String, to target: String, scope: PartitionScope = PartitionScope(),
                        progress: ProgressHandler? = nil) async throws -> RestoreReport {
        try await restore(id, to: target, scope: scope, fileSystem: LocalFileSystem(), progress: progress)
    }

    /// `restore(_:to:)` through another file system (the crash simulator in tests).
    /// Without `sources`, the collections' source files are not restored. With `flushing`, the
    /// restored database is flushed before it is proven, so every object is in (proven) segment files.
    package func restore(_ id: String, to target: String, scope: PartitionScope = PartitionScope(), fileSystem fs: any FileSystem,
                         sources withSources: Bool = true, flushing: Bool = false,
                         progress handler: ProgressHandler? = nil) async throws -> RestoreReport {
        try scope.validate()
        return try await withLock(exclusive: false, operation: "restore") {
            let started = ContinuousClock.now
            let backup = try await loadBackup(id)
            try Self.checkPaths(backup)
            let index = try await BlobIndex.load(self)
            let files = Dictionary(backup.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
            // What will be fetched: the WAL files and the segments the scope covers (resolved
            // here for the progress total; the cut resolves it again on the catalog the log ends in).
            let covering = scope.isEverything ? nil : try scope.resolve(in: backup.catalog ?? backup.manifest.catalog)
            let fetched = backup.walFiles.map { "wal/" + $0 } + backup.manifest.segments.filter { covering?.covers($0.partition) ?? true }.map(\.relativePath)
            let sources = withSources ? (backup.sources ?? []).filter { covering?.coversCollection($0.collection) ?? true } : []
            let fetchedBytes = fetched.reduce(0) { $0 + (files[$1]?.size ?? 0) } + sources.reduce(0) { $0 + $1.file.size }
            let progress = ProgressCounter(totalFiles: fetched.count + sources.count, totalBytes: fetchedBytes, handler: handler)
            let resolved = try await Engine.createDatabase(at: target, from: backup.manifest, walFiles: backup.walFiles,
                                                           scope: scope.isEverything ? nil : scope, fs: fs, place: { relativePath, destination in
                guard let file = files[relativePath] else {
                    throw RepositoryError.damaged(object: BackupManifest.objectName(id), reason: "it lists no blobs for \(relativePath)")
                }
                try await FileParts.restore(file, to: destination, fs: fs, repository: self, index: index, progress: progress)
            }, finishing: { directory, resolved in
                try await restoreSources(sources, into: directory, renaming: resolved, fs: fs, index: index, progress: progress)
            })
            var options = EngineOptions()
            options.fileSystem = fs
            options.createIfMissing = false
            let verified: Verified
            do {
                let expected = resolved.map { scope in
                    backup.summary.filter { scope.covers($0.key) }.map { partition in
                        var renamed = partition
                        (renamed.collection, renamed.tenant) = (scope.renamed(partition.key).collection, scope.renamed(partition.key).tenant)
                        return renamed
                    }
                } ?? backup.summary
                verified = try await Self.verify(target, against: expected, of: backup.id, options: options, flushing: flushing)
            } catch {
                try? fs.removeTree(target)
                throw error
            }
            return RestoreReport(backup: id, target: target, files: fetched.count + sources.count, bytes: fetchedBytes,
                                 partitionsVerified: verified.partitions, objectsVerified: verified.objects,
                                 fingerprintsVerified: verified.fingerprints, goldenQueriesVerified: verified.queries, sourceFiles: sources.count,
                                 scope: scope.isEverything ? nil : scope, notes: resolved?.notes ?? [],
                                 seconds: (ContinuousClock.now - started).milliseconds / 1000)
        }
    }

    /// Opens the restored database and compares every digested partition of `summary` (of
    /// backup `backupID`) with it: object count, content fingerprint (recomputed row by row)
    /// and golden queries; after a flush if `flushing`.
    private static func verify(_ target: String, against summary: [PartitionSummary], of backupID: String,
                               options: EngineOptions, flushing: Bool) async throws -> Verified {
        let engine = try await Engine.open(at: target, options: options)
        var verified = Verified()
        do {
            if flushing { try await engine.flush() }
            for partition in summary {
                guard let expected = partition.objects else { continue }
                let tenant = partition.tenant == PartitionKey.defaultTenant ? nil : partition.tenant
                let queries = partition.goldenQueries ?? []
                let found = try engine.digest(collection: partition.collection, tenant: tenant, goldenQueries: queries.map(\.queryObject))
                func mismatch(_ what: String) -> RepositoryError {
                    .damaged(object: BackupManifest.objectName(backupID), reason: "the restored \(partition.collection)/\(partition.tenant) \(what)")
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

    /// Writes the source files `sources` under `directory/sources/<collection>/` (the collection
    /// renamed as the scope says), each checked like any restored file, and fsyncs the folders.
    private func restoreSources(_ sources: [BackedUpSource], into directory: String, renaming scope: ResolvedScope?,
                                fs: any FileSystem, index: BlobIndex, progress: ProgressCounter) async throws {
        var folders = Set<String>()
        for source in sources {
            var file = source.file
            let inside = file.path.dropFirst("sources/\(source.collection)/".count)
            file.path = "sources/\(scope?.renamedCollection(source.collection) ?? source.collection)/\(inside)"
            let destination = directory + "/" + file.path
            if folders.insert(FilePaths.parent(of: destination)).inserted { try fs.createDirectory(FilePaths.parent(of: destination)) }
            try await FileParts.restore(file, to: destination, fs: fs, repository: self, index: index, progress: progress)
        }
        try fs.syncDirectories(folders, upTo: directory)
    }

    /// Refuses a backup whose file paths would leave the target: absolute paths, `..`, `.` or
    /// empty components. Checked before anything is written.
    static func checkPaths(_ backup: BackupManifest) throws {
        let paths = backup.files.map(\.path) + backup.manifest.segments.map(\.relativePath) + backup.walFiles.map { "wal/" + $0 }
        for source in backup.sources ?? [] where !source.file.path.hasPrefix("sources/\(source.collection)/") {
            throw RepositoryError.damaged(object: BackupManifest.objectName(backup.id),
                                          reason: "it puts a source file of \(source.collection) at \(source.file.path), outside sources/\(source.collection)/")
        }
        for path in paths + (backup.sources ?? []).map(\.file.path) {
            let components = path.split(separator: "/", omittingEmptySubsequences: false)
            guard !path.hasPrefix("/"), !components.isEmpty,
                  components.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("\0") }) else {
                throw RepositoryError.damaged(object: BackupManifest.objectName(backup.id), reason: "it names the path \(path), which leaves the target")
            }
        }
    }
}
