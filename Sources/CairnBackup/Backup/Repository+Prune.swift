import CairnEngine
import Foundation

/// What `prune` found and did (or, with `dryRun`, would do).
public struct PruneReport: Codable, Sendable, Hashable {
    public var backups = 0
    /// Blobs some backup needs.
    public var blobsUsed = 0
    public var packs = 0
    public var bytes = 0
    /// Packs that held nothing any backup needs, deleted.
    public var packsDeleted = 0
    /// Packs that held some needed blobs among much unneeded data: the needed blobs were copied
    /// into new packs and the old ones deleted.
    public var packsRepacked = 0
    /// Packs younger than the grace period, left alone whatever they hold.
    public var packsInGrace = 0
    public var bytesFreed = 0
    /// Bytes the repacking wrote.
    public var bytesWritten = 0
    public var dryRun = false
    public var seconds = 0.0
}

extension Repository {
    /// How long a new pack is safe from prune: long enough for a backup that was not seen to
    /// finish. One hour.
    public static let defaultPruneGrace: Duration = .seconds(3600)

    /// A pack with more than this fraction of unneeded bytes is repacked.
    static let repackUnusedFraction = 0.1

    /// Deletes the data no backup needs, under an exclusive lock. Mark: every backup's manifest
    /// is read and the blobs it names are marked (a manifest that does not read stops the prune:
    /// nothing is deleted on a guess). Sweep: a pack with no marked blob is deleted, and one
    /// with more than 10% unmarked bytes is repacked; packs younger than `grace` are left
    /// alone. The new index is written before the old index files and then the old packs are
    /// deleted, so a crash at any step leaves every kept backup whole; what it leaves over, the
    /// next prune removes.
    public func prune(grace: Duration = Repository.defaultPruneGrace, dryRun: Bool = false,
                      progress: ProgressHandler? = nil) async throws -> PruneReport {
        try await withLock(exclusive: true, operation: "prune") { try await pruneLocked(grace: grace, dryRun: dryRun, progress: progress) }
    }

    func pruneLocked(grace: Duration, dryRun: Bool, progress handler: ProgressHandler? = nil) async throws -> PruneReport {
        let started = ContinuousClock.now
        var report = PruneReport(dryRun: dryRun)
        // Mark.
        var used = Set<String>()
        for backup in try await manifests() {
            for file in backup.files { used.formUnion(file.blobs) }
            report.backups += 1
        }
        report.blobsUsed = used.count
        let indexFiles = try await BlobIndex.files(of: self)
        var primary: [String: BlobLocation] = [:]
        for (_, file) in indexFiles { for (id, location) in file.blobs where primary[id] == nil { primary[id] = location } }
        let packs = try await backend.list("data/")
        let packIDs = Set(packs.map { FilePaths.name(of: $0.name) })
        for id in used where primary[id].map({ !packIDs.contains($0.pack) }) ?? true {
            throw RepositoryError.missing(object: "blob \(id) (a backup needs it; prune stopped without deleting anything: run `cairn repo check`)")
        }
        // Bytes a pack must keep: its needed blobs and the header that lists them.
        var usedBytes: [String: Int] = [:]
        for id in used { usedBytes[primary[id]!.pack, default: 64] += primary[id]!.length + PackFormat.entrySize }

        // Decide.
        let youngestOld = Clock.milliseconds() - Int64(grace.milliseconds)
        var inGrace = Set<String>(), deleted: [StoredObjectInfo] = [], repacked: [StoredObjectInfo] = []
        for pack in packs {
            let id = FilePaths.name(of: pack.name)
            report.packs += 1
            report.bytes += pack.size
            if pack.modified > youngestOld {
                inGrace.insert(id)
            } else if usedBytes[id] == nil {
                deleted.append(pack)
            } else if Double(pack.size - usedBytes[id]!) > Double(pack.size) * Self.repackUnusedFraction {
                repacked.append(pack)
            }
        }
        report.packsInGrace = inGrace.count
        report.packsDeleted = deleted.count
        report.packsRepacked = repacked.count
        report.bytesFreed = (deleted + repacked).reduce(0) { $0 + $1.size }
        guard !dryRun, !(deleted.isEmpty && repacked.isEmpty) else {
            report.seconds = (ContinuousClock.now - started).milliseconds / 1000
            return report
        }

        // Sweep: copy what repacked packs hold that is needed; write the new index; delete the
        // old index files; delete the old packs.
        let leaving = Set((deleted + repacked).map { FilePaths.name(of: $0.name) })
        let writer = PackWriter(repository: self, index: BlobIndex())
        let moving = used.sorted().filter { leaving.contains(primary[$0]!.pack) }
        let progress = ProgressCounter(totalFiles: moving.count, totalBytes: moving.reduce(0) { $0 + primary[$1]!.length }, handler: handler)
        do {
            for id in moving {
                try await writer.add(try await readBlob(id, at: primary[id]!))
                progress.advance(bytes: primary[id]!.length, fileDone: true)
            }
            try await writer.finish()
        } catch {
            await writer.drain()
            throw error
        }
        reachedStep("prune-repacked")
        report.bytesWritten = writer.bytesWritten
        // One location per needed blob (a copy elsewhere is left unindexed, to be repacked
        // away), and every entry of the packs in their grace period.
        var kept: [String: BlobLocation] = [:]
        for (_, file) in indexFiles { for (id, location) in file.blobs where inGrace.contains(location.pack) { kept[id] = location } }
        for id in used where !leaving.contains(primary[id]!.pack) { kept[id] = primary[id]! }
        var written = Set(writer.indexFilesWritten)
        let entries = kept.sorted { $0.key < $1.key }
        for start in stride(from: 0, to: entries.count, by: PackWriter.entriesPerIndexFile) {
            let slice = entries[start..<min(start + PackWriter.entriesPerIndexFile, entries.count)]
            written.insert(try await writeIndexFile(Dictionary(uniqueKeysWithValues: slice.map { ($0.key, $0.value) })).name)
        }
        reachedStep("prune-index-written")
        for (name, _) in indexFiles where !written.contains(name) { try await backend.delete(name) }
        reachedStep("prune-old-index-deleted")
        for pack in deleted + repacked { try await backend.delete(pack.name) }
        report.seconds = (ContinuousClock.now - started).milliseconds / 1000
        return report
    }
}
