import Foundation

/// How a JSONL import runs.
public struct ImportOptions: Sendable {
    /// Objects per atomic batch.
    public var batchSize = 1000
    /// Validate the whole file without writing anything.
    public var dryRun = false

    public init(batchSize: Int = 1000, dryRun: Bool = false) {
        self.batchSize = batchSize
        self.dryRun = dryRun
    }
}

/// Where an import is, reported after every batch.
public struct ImportProgress: Sendable {
    /// Lines read so far (including blank ones).
    public var lines: Int
    /// Objects committed so far (in a dry run: validated).
    public var objects: Int
    public var bytesRead: Int
    public var totalBytes: Int
}

/// What an import did.
public struct ImportReport: Sendable, Codable {
    public var lines: Int
    /// Objects committed (in a dry run: objects that would be).
    public var objects: Int
    public var batches: Int
    public var dryRun: Bool
    /// Invalid lines found by a dry run (at most 100 are listed).
    public var errors: [String]
    public var invalidLines: Int
    public var seconds: Double
    /// The safety snapshot taken before a bulk import, if one was.
    public var safetySnapshot: String?
}

extension Database {
    /// Imports a JSONL file (one `{"id","properties","vector"}` object per line) in atomic batches.
    ///
    /// Each batch is validated completely before it is committed. At the first invalid line the
    /// import stops with `CairnError.importStopped`, naming the line and how many objects the
    /// earlier batches committed; the batch holding the bad line is not written. A dry run
    /// validates every line, writes nothing and reports all invalid lines.
    public func importJSONL(from path: String, into collection: String, tenant: String? = nil,
                            options: ImportOptions = ImportOptions(),
                            progress: (ImportProgress) -> Void = { _ in }) async throws -> ImportReport {
        let schema = try self.collection(named: collection)
        guard options.batchSize >= 1 else { throw CairnError.invalidArgument("batch size must be at least 1") }
        let started = Date()
        let totalBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        var reader = try LineReader(path: path)
        defer { reader.close() }
        var report = ImportReport(lines: 0, objects: 0, batches: 0, dryRun: options.dryRun, errors: [], invalidLines: 0, seconds: 0)
        if !options.dryRun, try LineReader.countLines(path: path) > engine.bulkImportThreshold {
            report.safetySnapshot = try await engine.takeSafetySnapshot(before: "bulk import into \(schema.name)")?.id
        }
        var batch: [NewObject] = []
        var batchLines: [Int] = []

        func fail(_ line: Int, _ error: Error) throws {
            let reason = (error as? CairnError)?.description ?? "\(error)"
            if options.dryRun {
                report.invalidLines += 1
                if report.errors.count < 100 { report.errors.append("line \(line): \(reason)") }
            } else {
                throw CairnError.importStopped(line: line, committed: report.objects, reason: reason)
            }
        }

        func commit() async throws {
            guard !batch.isEmpty else { return }
            do {
                if options.dryRun { try engine.validate(batch, collection: collection, tenant: tenant) }
                else { try await put(batch, into: collection, tenant: tenant) }
                report.objects += batch.count
                report.batches += 1
            } catch let CairnError.batchRejected(errors) {
                for error in errors { try fail(batchLines[error.index], error.error) }
                report.objects += batch.count - errors.count
            }
            batch.removeAll(keepingCapacity: true)
            batchLines.removeAll(keepingCapacity: true)
            progress(ImportProgress(lines: report.lines, objects: report.objects, bytesRead: reader.bytesRead, totalBytes: totalBytes))
        }

        while let line = try reader.next() {
            report.lines = reader.lineNumber
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
            do {
                let json = try JSONParser.parse(line)
                batch.append(try ObjectJSON.object(from: json, schema: schema))
                batchLines.append(reader.lineNumber)
            } catch let error as JSONParser.SyntaxError {
                try fail(reader.lineNumber, CairnError.invalidArgument("not valid JSON: \(error)"))
            } catch {
                try fail(reader.lineNumber, error)
            }
            if batch.count >= options.batchSize { try await commit() }
        }
        try await commit()
        report.seconds = Date().timeIntervalSince(started)
        return report
    }
}
