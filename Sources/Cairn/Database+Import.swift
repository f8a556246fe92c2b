import Foundation

/// How a JSONL import runs.
public struct ImportOptions: Sendable {
    /// Objects per atomic batch.
    public var batchSize = 1000
    /// Validate the whole file without writing anything.
    public var dryRun = false

    /// Options for an import: objects per committed batch, and whether only to validate.
    public init(batchSize: Int = 1000, dryRun: Bool = false) {
        self.batchSize = batchSize
        self.dryRun = dryRun
    }
}

/// Where an import is, reported after every batch.
public struct ImportProgress: Sendable {
    /// Lines committed so far: every line up to this one (blank ones included) is written.
    public var lines: Int
    /// Objects committed so far (in a dry run: validated).
    public var objects: Int
    /// Input bytes read so far.
    public var bytesRead: Int
    /// The input's size in bytes, or 0 when it is not known (a pipe).
    public var totalBytes: Int
}

/// What an import did.
public struct ImportReport: Sendable, Codable {
    /// Input lines read.
    public var lines: Int
    /// Objects committed (in a dry run: objects that would be).
    public var objects: Int
    /// Batches committed (in a dry run: validated).
    public var batches: Int
    /// Whether the import only validated its input.
    public var dryRun: Bool
    /// Invalid lines found by a dry run (at most 100 are listed).
    public var errors: [String]
    /// The number of invalid lines a dry run found.
    public var invalidLines: Int
    /// Wall time of the import.
    public var seconds: Double
    /// The safety snapshot taken before a bulk import, if one was.
    public var safetySnapshot: String?
    /// The import was cancelled (the task, or Ctrl-C in the CLI): `objects` were committed,
    /// every line up to `lines` of them, and nothing after.
    public var interrupted = false
}

/// Where an import writes: a database opened in this process, or one another process holds
/// open (`RemoteDatabase`, through its control socket). The import itself — reading, parsing,
/// batching, line numbers — runs where it is called either way.
public protocol ImportTarget: Sendable {
    /// The collection's schema and the bulk-import threshold.
    func importSettings(for collection: String) async throws -> ImportSettings
    /// Checks a batch without writing it; throws `CairnError.batchRejected` naming every bad object.
    func validate(_ objects: [NewObject], collection: String, tenant: String?) async throws
    /// Writes a batch atomically; returns when it is durable.
    func put(_ objects: [NewObject], into collection: String, tenant: String?) async throws
    /// Takes the safety snapshot before a risky operation (nil when the policy is off).
    func takeSafetySnapshot(before operation: String) async throws -> SnapshotInfo?
}

extension Database: ImportTarget {
    public func importSettings(for collection: String) async throws -> ImportSettings {
        ImportSettings(schema: try self.collection(named: collection), bulkImportThreshold: engine.bulkImportThreshold)
    }

    public func validate(_ objects: [NewObject], collection: String, tenant: String?) async throws {
        try engine.validate(objects, collection: collection, tenant: tenant)
    }

    public func takeSafetySnapshot(before operation: String) async throws -> SnapshotInfo? {
        try await engine.takeSafetySnapshot(before: operation)
    }
}

extension ImportTarget {
    /// Imports JSONL (one `{"id","properties","vector"}` object per line) in atomic batches from
    /// a file, a pipe, or standard input (`-`). The input is read once, front to back.
    ///
    /// Each batch is validated completely before it is committed. At the first invalid line the
    /// import stops with `CairnError.importStopped`, naming the line and how many objects the
    /// earlier batches committed; the batch holding the bad line is not written. A write that
    /// fails (a full disk) stops the import the same way. When an id appears again, the later
    /// line wins, whether or not the two fall in one batch. A dry run validates every line,
    /// writes nothing and reports all invalid lines. Cancelling the task stops the import after
    /// the batch in flight and returns the report with `interrupted` set.
    ///
    /// An import of more objects than `EngineOptions.safetySnapshots.bulkImportObjects` takes a
    /// safety snapshot once its first batch has passed validation (an import that writes
    /// nothing takes none); the first objects are read ahead to tell, never the input twice.
    public func importJSONL(from path: String, into collection: String, tenant: String? = nil,
                            options: ImportOptions = ImportOptions(),
                            progress: (ImportProgress) -> Void = { _ in }) async throws -> ImportReport {
        let settings = try await importSettings(for: collection)
        let schema = settings.schema
        guard options.batchSize >= 1 else { throw CairnError.invalidArgument("batch size must be at least 1") }
        let started = Date()
        var reader = try LineReader(path: path)
        defer { reader.close() }
        var report = ImportReport(lines: 0, objects: 0, batches: 0, dryRun: options.dryRun, errors: [], invalidLines: 0, seconds: 0)

        func isBlank(_ line: [UInt8]) -> Bool { line.allSatisfy { $0 == 0x20 || $0 == 0x09 } }
        var readAhead: [(number: Int, bytes: [UInt8])] = []
        var needsSafetySnapshot = false
        if !options.dryRun {
            var objectsAhead = 0
            while objectsAhead <= settings.bulkImportThreshold, let line = try reader.next() {
                readAhead.append((reader.lineNumber, line))
                if !isBlank(line) { objectsAhead += 1 }
            }
            needsSafetySnapshot = objectsAhead > settings.bulkImportThreshold
        }
        var readAheadPosition = 0
        func nextLine() throws -> (number: Int, bytes: [UInt8])? {
            if readAheadPosition < readAhead.count {
                defer { readAheadPosition += 1 }
                return readAhead[readAheadPosition]
            }
            readAhead = []
            return try reader.next().map { (reader.lineNumber, $0) }
        }

        var batch: [NewObject] = []
        var batchLines: [Int] = []
        var batchIDs = Set<UUID>()
        var objectsRead = 0

        func fail(_ line: Int, _ error: Error) throws {
            let reason = (error as? CairnError)?.description ?? "\(error)"
            if options.dryRun {
                report.invalidLines += 1
                if report.errors.count < 100 { report.errors.append("line \(line): \(reason)") }
            } else {
                throw CairnError.importStopped(line: line, committed: report.objects, reason: reason)
            }
        }

        /// The batch being written while the next one is read and parsed.
        var inFlight: (write: Task<Void, Error>, lines: [Int], count: Int)?

        /// Waits for the batch in flight and counts it (or stops the import at its first bad line).
        func settle() async throws {
            guard let (write, lines, count) = inFlight else { return }
            inFlight = nil
            do {
                try await write.value
                report.objects += count
                report.batches += 1
            } catch let CairnError.batchRejected(errors) {
                for error in errors { try fail(lines[error.index], error.error) }
                report.objects += count - errors.count
            } catch {
                throw CairnError.importStopped(line: lines[0], committed: report.objects, reason: (error as? CairnError)?.description ?? "\(error)")
            }
            // Lines up to the batch's last are committed (the next batch may already be read).
            progress(ImportProgress(lines: lines.last ?? report.lines, objects: report.objects, bytesRead: reader.bytesRead,
                                    totalBytes: reader.totalBytes ?? 0))
        }

        /// Starts writing the batch read so far (after the one before it is durable); a dry run
        /// validates it instead.
        func commit() async throws {
            try await settle()
            guard !batch.isEmpty else { return }
            let objects = batch, lines = batchLines
            batch.removeAll(keepingCapacity: true)
            batchLines.removeAll(keepingCapacity: true)
            batchIDs.removeAll(keepingCapacity: true)
            if options.dryRun || needsSafetySnapshot {
                do { try await validate(objects, collection: collection, tenant: tenant) } catch {
                    inFlight = (Task { throw error }, lines, objects.count)
                    return try await settle()
                }
            }
            if options.dryRun {
                inFlight = (Task {}, lines, objects.count)
                return try await settle()
            }
            if needsSafetySnapshot {
                do { report.safetySnapshot = try await takeSafetySnapshot(before: "bulk import into \(schema.name)")?.id } catch {
                    throw CairnError.importStopped(line: lines[0], committed: report.objects, reason: (error as? CairnError)?.description ?? "\(error)")
                }
                needsSafetySnapshot = false
            }
            inFlight = (Task { [self] in try await put(objects, into: collection, tenant: tenant) }, lines, objects.count)
        }

        do {
            while let line = try nextLine() {
                if Task.isCancelled {
                    try await settle()
                    report.interrupted = true
                    break
                }
                report.lines = line.number
                if isBlank(line.bytes) { continue }
                objectsRead += 1
                let object: NewObject
                do { object = try ObjectJSON.object(from: try JSONParser.parse(line.bytes), schema: schema) } catch let error as JSONParser.SyntaxError {
                    try await settle()
                    try fail(line.number, CairnError.invalidArgument("not valid JSON: \(error)"))
                    continue
                } catch {
                    try await settle()
                    try fail(line.number, error)
                    continue
                }
                // The later line wins: a repeated id closes the batch, so it is written after the first.
                if !batchIDs.insert(object.id).inserted {
                    try await commit()
                    batchIDs.insert(object.id)
                }
                batch.append(object)
                batchLines.append(line.number)
                if batch.count >= options.batchSize { try await commit() }
            }
            try await commit()
            try await settle()
        } catch {
            // Never return while a batch is still being written.
            _ = await inFlight?.write.result
            throw error
        }
        if !options.dryRun && !report.interrupted && report.objects != objectsRead {
            throw CairnError.importStopped(line: report.lines, committed: report.objects,
                                           reason: "read \(objectsRead) objects but committed \(report.objects)")
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
