import CCairnSupport
import Foundation

extension Engine {
    /// Opens (or creates) the database in `directory`: loads the manifest, maps and checks the
    /// segments, replays the WAL after the checkpoint, moves a torn tail aside, and starts the
    /// background threads. Refuses, naming the file and offset, anything corrupt before the tail,
    /// and a directory that holds database files but no `CURRENT`. With
    /// `options.createIfMissing` false, a directory that is not a database is refused too.
    package static func open(at directory: String, options: EngineOptions = EngineOptions()) async throws -> Engine {
        if options.limitsAllocatorRetention { cairn_limit_allocator_retention() }
        let engine = try await runBlocking { try recover(directory: directory, options: options) }
        engine.start()
        return engine
    }

    private static func recover(directory: String, options: EngineOptions) throws -> Engine {
        let fs = options.fileSystem
        let store = ManifestStore(fs: fs, directory: directory)
        if !fs.exists(store.currentPath) {
            // Checked before the lock is taken (which would create LOCK) and again, under it, by `initialize`.
            if let evidence = try OrphanedDatabase.find(in: directory, fs: fs) { throw evidence.error }
            if !options.createIfMissing { throw CairnError.notADatabase(path: directory) }
        }
        try fs.createDirectory(directory)
        let lock = try fs.lockDirectory(directory)
        do {
            if !fs.exists(store.currentPath) { try initialize(directory: directory, fs: fs) }
            let manifest = try store.loadCurrent()
            let loader = SegmentLoader(fs: fs, directory: directory)
            var partitions: [PartitionKey: PartitionData] = [:]
            for (key, isLoaded) in manifest.catalog.partitionsByLoadedState {
                guard let incarnation = manifest.catalog.incarnation(of: key),
                      let schema = manifest.catalog.collections[key.collection] else { continue }
                partitions[key] = PartitionData(key: key, incarnation: incarnation, schema: schema, isLoaded: isLoaded)
            }
            let version = try Version(manifest: manifest, reusing: nil, partitions: partitions, loader: loader)
            var state = EngineState(catalog: manifest.catalog, partitions: partitions, appliedLSN: manifest.checkpointLSN, version: version)
            for partition in partitions.values where partition.isLoaded { state.view(of: partition).recomputeDeadRows() }
            let indexer = GraphIndexer(threads: options.graphBuildThreads)
            let replayStarted = ContinuousClock.now
            let wal = try replay(directory: directory, manifest: manifest, state: &state, options: options,
                                 applier: StateApplier(loader: loader, indexer: indexer))
            let replaySeconds = (ContinuousClock.now - replayStarted).milliseconds / 1000
            if state.walBytesSinceCheckpoint > 0 { state.firstUnflushedWriteAt = Clock.milliseconds() }
            // Measured on this machine when there was enough to measure; otherwise a typical rate.
            if state.walBytesSinceCheckpoint >= 4 << 20 { state.replayBytesPerSecond = Double(state.walBytesSinceCheckpoint) / replaySeconds }
            let window = try adoptStorageLabel(directory: directory, appliedLSN: state.appliedLSN, fs: fs, logger: options.logger)
            let engine = Engine(directory: directory, options: options, lock: lock, state: state, wal: wal, indexer: indexer,
                                storageWindow: window)
            // An open storage-snapshot window holds every file; garbage waits for its end.
            // Kept: the manifest's segments and those that replayed tenant attachments added.
            if window == nil { engine.collectGarbage(keeping: state.version.manifest, walStart: manifest.walStartSequence) }
            return engine
        } catch {
            lock.release()
            throw error
        }
    }

    /// Creates the directory layout of an empty database: WAL file 1, manifest 1, then CURRENT.
    /// Refuses a directory without `CURRENT` that holds anything of a database; an interrupted
    /// initialisation (an empty WAL file, an empty manifest) is finished, nothing is deleted.
    private static func initialize(directory: String, fs: any FileSystem) throws {
        let store = ManifestStore(fs: fs, directory: directory)
        if let evidence = try OrphanedDatabase.find(in: directory, fs: fs) { throw evidence.error }
        if let outer = enclosingDatabase(of: directory, fs: fs) {
            throw CairnError.invalidArgument("\(directory) is inside the data directory \(outer), whose files Cairn manages; "
                                             + "create the new database outside it")
        }
        for sub in ["wal", "manifests", "segments"] { try fs.createDirectory(directory + "/" + sub) }
        // The data directory's own name must be durable too, or a power cut could take it all.
        try fs.syncDirectory(FilePaths.parent(of: FilePaths.absolute(directory)))
        // Valid length 0: a WAL file 1 left by an interrupted initialisation holds no mutation
        // (checked above) and is rewritten.
        let wal = try WALWriter(fs: fs, directory: directory + "/wal", sequence: 1, validLength: 0)
        wal.close()
        try fs.syncDirectory(directory)
        let manifest = Manifest(databaseID: UUID().uuidString.lowercased(), sequence: 1, checkpointLSN: 0,
                                walStartSequence: 1, catalog: Catalog(), segments: [], writtenAt: Clock.milliseconds())
        try store.publish(manifest)
    }

    /// The data directory that `directory` would lie inside, if any (a database created there
    /// would mix its files with another's).
    private static func enclosingDatabase(of directory: String, fs: any FileSystem) -> String? {
        var candidate = FilePaths.absolute(directory)
        while candidate != "/" && !candidate.isEmpty {
            candidate = FilePaths.parent(of: candidate)
            if fs.exists(candidate + "/CURRENT") && fs.exists(candidate + "/manifests") { return candidate }
        }
        return nil
    }

    /// Replays every WAL record after the checkpoint into `state` and returns the writer
    /// positioned after the last valid record.
    private static func replay(directory: String, manifest: Manifest, state: inout EngineState,
                               options: EngineOptions, applier: StateApplier) throws -> WALWriter {
        let walDirectory = directory + "/wal"
        let fs = options.fileSystem
        let chain = try WALChain(fs: fs, walDirectory: walDirectory, manifest: manifest)
        let outcome = try chain.scan { lsn, payload, path, offset in
            let mutation: Mutation
            do { mutation = try Mutation.decode(payload) } catch {
                throw CairnError.corruption(file: path, offset: offset, detail: "WAL record \(lsn) cannot be decoded")
            }
            state.walBytesSinceCheckpoint += payload.count + WALFormat.recordHeaderSize
            do { try applier.apply(mutation, lsn: lsn, to: &state) } catch {
                throw CairnError.corruption(file: path, offset: offset, detail: "WAL record \(lsn) does not apply: \(error)")
            }
        }
        if let (path, tail) = outcome.torn {
            let kept = try TornTailArchive.keep(tail, of: path, fs: fs)
            let file = try fs.openForWriting(path, .existing)
            defer { file.close() }
            try file.truncate(to: tail.start)
            // A torn seal (a crash during a rotation): seal the file again, so that it still
            // names its successor.
            let newest = chain.sequences.last!
            if path != walDirectory + "/" + WALFormat.fileName(newest) {
                try WALFormat.controlRecord(.sealed(next: newest)).withUnsafeBytes { try file.write($0, at: tail.start) }
            }
            try file.fullSync()
            options.logger.warning("a crash left a torn WAL tail; it was moved aside and the log continues before it", metadata: [
                "file": "\(path)", "bytes": "\(tail.start)..<\(tail.end)", "records": "\(tail.recordHeaders)", "kept": "\(kept ?? "-")"])
        }
        return try WALWriter(fs: fs, directory: walDirectory, sequence: chain.sequences.last!, validLength: outcome.validLengthOfNewest,
                             endsClosed: outcome.closedCleanly)
    }

    /// Deletes files no manifest needs: segments and manifests left by interrupted flushes or
    /// compactions, WAL files before the checkpoint, and the staging folder of a restore into
    /// the live database that did not attach its tenant. Only files named the way Cairn names
    /// its own are touched, and only empty directories are removed: anything else is left alone.
    func collectGarbage(keeping manifest: Manifest, walStart: Int) {
        let live = Set(manifest.segments.map(\.relativePath))
        for collection in (try? fs.listDirectory(segmentsDirectory)) ?? [] {
            for tenant in (try? fs.listDirectory(segmentsDirectory + "/" + collection)) ?? [] {
                let folder = "segments/\(collection)/\(tenant)"
                for file in (try? fs.listDirectory(directory + "/" + folder)) ?? []
                where SegmentFormat.isSpillFileName(file) || (SegmentFormat.isSegmentFileName(file) && !live.contains(folder + "/" + file)) {
                    try? fs.remove(directory + "/" + folder + "/" + file)
                }
                fs.removeEmptyDirectory(directory + "/" + folder)
            }
            fs.removeEmptyDirectory(segmentsDirectory + "/" + collection)
        }
        let currentName = Manifest.fileName(manifest.sequence)
        for name in (try? fs.listDirectory(manifests.manifestsDirectory)) ?? [] where name != currentName && Manifest.sequence(of: name) != nil {
            try? fs.remove(manifests.manifestsDirectory + "/" + name)
        }
        let restored = Set(manifest.restoredWAL ?? [])
        for name in (try? fs.listDirectory(walDirectory)) ?? [] where !restored.contains(name) {
            if let sequence = WALFormat.sequence(of: name) {
                if sequence < walStart { try? fs.remove(walDirectory + "/" + name) }
            } else if name.hasPrefix(SnapshotLayout.restoredWALPrefix) {
                try? fs.remove(walDirectory + "/" + name)
            }
        }
        snapshots.removeUnfinished()
        // A restore into the live database interrupted before its tenant was attached.
        try? fs.removeTree(directory + "/" + Engine.restoreStagingFolder)
    }
}
