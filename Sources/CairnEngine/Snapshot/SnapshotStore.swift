import Foundation

/// Where snapshots live inside a data directory:
///
/// ```
/// snapshots/<id>/snapshot.json       SnapshotInfo (written last: its presence marks a finished snapshot)
/// snapshots/<id>/manifest.json       the live manifest at the snapshot (same format as manifests/)
/// snapshots/<id>/segments/<c>/<t>/…  hard links of the manifest's segment files
/// snapshots/<id>/wal/<n>.log         hard links of the sealed WAL files from the manifest's start
/// ```
/// A snapshot is built in `snapshots/.partial-<id>` and renamed into place when complete.
enum SnapshotLayout {
    static let infoFile = "snapshot.json"
    static let manifestFile = "manifest.json"
    static let partialPrefix = ".partial-"
    /// The name prefix of WAL files a rollback brings back (see `Manifest.restoredWAL`).
    static let restoredWALPrefix = "restored-"
}

/// Lists, reads and deletes the snapshots of a data directory.
package struct SnapshotStore: Sendable {
    let fs: any FileSystem
    let directory: String

    var snapshotsDirectory: String { directory + "/snapshots" }

    func path(_ id: String) -> String { snapshotsDirectory + "/" + id }

    /// Finished snapshots whose description reads, oldest first.
    func list() -> [SnapshotInfo] {
        entries().compactMap { try? $0.info.get() }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// A snapshot directory and its description, or why that cannot be read.
    struct Entry {
        var id: String
        var info: Result<SnapshotInfo, CairnError>
    }

    /// Every finished snapshot directory (a `snapshots/` that cannot be listed is one failed
    /// entry, never an empty list).
    func entries() -> [Entry] {
        let names: [String]
        do { names = try fs.listDirectory(snapshotsDirectory) } catch {
            return [Entry(id: "snapshots", info: .failure(error as? CairnError
                ?? .io(path: snapshotsDirectory, operation: "readdir", reason: "\(error)")))]
        }
        return names.filter { !$0.hasPrefix(".") && isValidID($0) }.map { id in
            do { return Entry(id: id, info: .success(try info(id))) } catch {
                return Entry(id: id, info: .failure(error as? CairnError ?? .corruption(file: path(id), offset: 0, detail: "\(error)")))
            }
        }
    }

    /// Refuses snapshot `id` unless it would open as a database (`verify`), naming what is wrong.
    func requireRestorable(_ id: String) throws {
        let report = verify(id)
        guard report.isConsistent else { throw CairnError.snapshotDamaged(id: id, problems: report.problems.map(\.description)) }
    }

    /// The snapshot `id`, `snapshotNotFound`, or `corruption` when its description is unreadable.
    func info(_ id: String) throws -> SnapshotInfo {
        guard isValidID(id), fs.exists(path(id)) else { throw CairnError.snapshotNotFound(id) }
        let file = path(id) + "/" + SnapshotLayout.infoFile
        guard fs.exists(file) else { throw CairnError.corruption(file: file, offset: 0, detail: "the snapshot's description is missing") }
        do { return try JSONDecoder().decode(SnapshotInfo.self, from: Data(try fs.readFile(file))) }
        catch { throw CairnError.corruption(file: file, offset: 0, detail: "snapshot description is not valid: \(error)") }
    }

    /// The manifest a snapshot was taken at.
    func manifest(_ id: String) throws -> Manifest {
        let file = path(id) + "/" + SnapshotLayout.manifestFile
        return try Manifest.decode(try fs.readFile(file), path: file)
    }

    /// The WAL files of a snapshot, in replay order: files a rollback had restored, then the
    /// numbered ones.
    func walFiles(_ id: String, manifest: Manifest) throws -> [String] {
        let numbered = try fs.listDirectory(path(id) + "/wal").filter { WALFormat.sequence(of: $0) != nil }
            .sorted { WALFormat.sequence(of: $0)! < WALFormat.sequence(of: $1)! }
        return (manifest.restoredWAL ?? []) + numbered
    }

    /// How many of a snapshot's bytes are shared with other names, and what a quick look at its
    /// files finds wrong.
    func usage(_ snapshot: SnapshotInfo) -> SnapshotUsage {
        var shared = 0, exclusive = 0
        let root = path(snapshot.id)
        let manifest: Manifest
        do { manifest = try self.manifest(snapshot.id) } catch {
            return SnapshotUsage(snapshot: snapshot, sharedBytes: 0, exclusiveBytes: 0, problems: ["\(error)"])
        }
        let wal: [String]
        do { wal = try walFiles(snapshot.id, manifest: manifest) } catch {
            return SnapshotUsage(snapshot: snapshot, sharedBytes: 0, exclusiveBytes: 0, problems: ["\(error)"])
        }
        let files = manifest.segments.map { root + "/" + $0.relativePath } + wal.map { root + "/wal/" + $0 }
        for file in files {
            let size = (try? fs.fileSize(file)) ?? 0
            if ((try? fs.linkCount(file)) ?? 1) > 1 { shared += size } else { exclusive += size }
        }
        return SnapshotUsage(snapshot: snapshot, sharedBytes: shared, exclusiveBytes: exclusive,
                             problems: quickCheck(snapshot, manifest: manifest).map(\.detail))
    }

    /// Every file of the snapshot present with the size recorded for it (no byte is read);
    /// problems name the file relative to the snapshot.
    func quickCheck(_ snapshot: SnapshotInfo, manifest: Manifest) -> [VerifyReport.Problem] {
        let root = path(snapshot.id)
        let walSizes = snapshot.walFileSizes
            ?? Dictionary(uniqueKeysWithValues: ((try? walFiles(snapshot.id, manifest: manifest)) ?? []).map { ($0, -1) })
        let expected = manifest.segments.map { ($0.relativePath, $0.bytes) } + walSizes.sorted { $0.key < $1.key }.map { ("wal/" + $0.key, $0.value) }
        return expected.compactMap { file, bytes in
            guard let size = try? fs.fileSize(root + "/" + file) else { return .init(file: file, offset: 0, detail: "\(file) is missing") }
            return bytes >= 0 && size != bytes ? .init(file: file, offset: size, detail: "\(file) has \(size) bytes, not \(bytes)") : nil
        }
    }

    /// Reads every byte of snapshot `id` by the rules `verify` applies to a data directory: the
    /// manifest, each segment's size and CRC32C, the WAL chain (complete, sealed, no torn tail),
    /// and that the log reaches exactly the snapshot's LSN.
    func verify(_ id: String) -> VerifyReport {
        let root = path(id)
        let failed = { (file: String, detail: String) in
            VerifyReport(directory: root, problems: [.init(file: file, offset: 0, detail: detail)], checkedFiles: 0, checkedBytes: 0, seconds: 0)
        }
        let snapshot: SnapshotInfo, manifest: Manifest
        do {
            snapshot = try info(id)
            manifest = try self.manifest(id)
        } catch let CairnError.corruption(file, _, detail) {
            return failed(file, detail)
        } catch {
            return failed(root, "\(error)")
        }
        var report = DirectoryVerifier.verify(root, fs: fs, manifest: manifest, isLive: false)
        // The WAL chain cannot tell a cut sealed file from a whole one; the recorded sizes can.
        for problem in quickCheck(snapshot, manifest: manifest) where problem.file.hasPrefix("wal/") {
            report.problems.append(.init(file: root + "/" + problem.file, offset: problem.offset, detail: problem.detail))
        }
        if report.problems.isEmpty, let last = report.lastLSN, last != snapshot.lsn {
            report.problems.append(.init(file: root + "/wal", offset: 0,
                                         detail: "the snapshot's WAL ends at LSN \(last), but the snapshot is at LSN \(snapshot.lsn)"))
        }
        return report
    }

    /// Deletes a snapshot, damaged or not: only files no other name refers to free space.
    func delete(_ id: String) throws {
        guard isValidID(id), fs.exists(path(id)) else { throw CairnError.snapshotNotFound(id) }
        let doomed = snapshotsDirectory + "/" + SnapshotLayout.partialPrefix + "deleting-" + id
        try fs.rename(path(id), to: doomed)
        try fs.syncDirectory(snapshotsDirectory)
        try fs.removeTree(doomed)
    }

    /// One file of a snapshot being written: where it is now, where it goes inside the snapshot,
    /// and whether it must be copied because it may still change (linked otherwise).
    struct SourceFile {
        var source: String
        var relativePath: String
        var copy = false
    }

    /// Writes a snapshot of `manifest` holding `files`: built in a partial directory (links or
    /// copies, the manifest, every directory synced), described last by the `SnapshotInfo` that
    /// `describe` returns for the new id and time (sizes and counts filled in here), then
    /// renamed into place. A crash before the rename leaves nothing listed.
    func write(manifest: Manifest, files: [SourceFile], started: ContinuousClock.Instant, reachedStep: (String) -> Void = { _ in },
               describe: (_ id: String, _ createdAt: Int64) -> SnapshotInfo) throws -> SnapshotInfo {
        if !fs.exists(snapshotsDirectory) {
            try fs.createDirectory(snapshotsDirectory)
            try fs.syncDirectory(directory)
        }
        let createdAt = Clock.milliseconds()
        let id = SnapshotStore.newID(at: createdAt)
        let partial = snapshotsDirectory + "/" + SnapshotLayout.partialPrefix + id
        let folders = Set(files.map { FilePaths.parent(of: partial + "/" + $0.relativePath) }).union([partial + "/wal"])
        for folder in folders.sorted() { try fs.createDirectory(folder) }
        var info = describe(id, createdAt)
        info.walFileSizes = [:]
        for file in files {
            let destination = partial + "/" + file.relativePath
            if file.copy { try fs.copyFile(file.source, to: destination) }
            else { try fs.linkOrCopy(file.source, to: destination) }
            let size = try fs.fileSize(destination)
            info.bytes += size
            info.fileCount += 1
            if file.relativePath.hasPrefix("wal/") { info.walFileSizes![String(file.relativePath.dropFirst(4))] = size }
        }
        reachedStep("snapshot-linked")
        try fs.writeNewFile(partial + "/" + SnapshotLayout.manifestFile, try manifest.encoded())
        try fs.syncDirectories(folders, upTo: partial)
        info.creationMilliseconds = (ContinuousClock.now - started).milliseconds
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try fs.writeNewFile(partial + "/" + SnapshotLayout.infoFile, [UInt8](try encoder.encode(info)))
        try fs.syncDirectory(partial)
        reachedStep("snapshot-described")
        try fs.rename(partial, to: path(id))
        try fs.syncDirectory(snapshotsDirectory)
        return info
    }

    /// Removes snapshots whose creation or deletion was interrupted, and the recovery points
    /// of backups a crash ended (only the process holding the database runs backups).
    func removeUnfinished() {
        for name in (try? fs.listDirectory(snapshotsDirectory)) ?? [] where name.hasPrefix(SnapshotLayout.partialPrefix) {
            try? fs.removeTree(snapshotsDirectory + "/" + name)
        }
        for snapshot in list() where snapshot.trigger == .backup { try? delete(snapshot.id) }
    }

    /// Ids are generated by Cairn; anything else (a path, `..`) is not one.
    func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && !id.hasPrefix("-")
    }

    /// A new id: `20261125-143005-1a2b`.
    package static func newID(at milliseconds: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "\(parts.year ?? 0)\(two(parts.month))\(two(parts.day))-\(two(parts.hour))\(two(parts.minute))\(two(parts.second))-"
            + String(repeating: "0", count: 4 - suffix.count) + suffix
    }
}
