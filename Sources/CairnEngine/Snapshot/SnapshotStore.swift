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
struct SnapshotStore: Sendable {
    let fs: any FileSystem
    let directory: String

    var snapshotsDirectory: String { directory + "/snapshots" }

    func path(_ id: String) -> String { snapshotsDirectory + "/" + id }

    /// Finished snapshots whose description reads, oldest first.
    func list() -> [SnapshotInfo] {
        entries().compactMap { try? $0.get() }.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    /// Every finished snapshot directory: its description, or why it cannot be read (a
    /// directory that cannot be listed is one failure, never an empty list).
    func entries() -> [Result<SnapshotInfo, CairnError>] {
        let names: [String]
        do { names = try fs.listDirectory(snapshotsDirectory) } catch let error as CairnError {
            return [.failure(error)]
        } catch {
            return [.failure(.io(path: snapshotsDirectory, operation: "readdir", reason: "\(error)"))]
        }
        return names.filter { !$0.hasPrefix(".") && isValidID($0) }.map { id in
            do { return .success(try info(id)) } catch let error as CairnError { return .failure(error) } catch {
                return .failure(.corruption(file: path(id), offset: 0, detail: "\(error)"))
            }
        }
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
                             problems: quickCheck(snapshot, manifest: manifest))
    }

    /// Every file of the snapshot present with the size recorded for it (no byte is read).
    func quickCheck(_ snapshot: SnapshotInfo, manifest: Manifest) -> [String] {
        let root = path(snapshot.id)
        var problems: [String] = []
        for segment in manifest.segments {
            let size = try? fs.fileSize(root + "/" + segment.relativePath)
            if size != segment.bytes {
                problems.append(size == nil ? "\(segment.relativePath) is missing" : "\(segment.relativePath) has \(size!) bytes, not \(segment.bytes)")
            }
        }
        let expected = snapshot.walFileSizes
            ?? Dictionary(uniqueKeysWithValues: ((try? walFiles(snapshot.id, manifest: manifest)) ?? []).map { ($0, -1) })
        for (name, bytes) in expected.sorted(by: { $0.key < $1.key }) {
            let size = try? fs.fileSize(root + "/wal/" + name)
            if size == nil { problems.append("wal/\(name) is missing") } else if bytes >= 0 && size != bytes {
                problems.append("wal/\(name) has \(size!) bytes, not \(bytes)")
            }
        }
        return problems
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
        for problem in quickCheck(snapshot, manifest: manifest) where problem.hasPrefix("wal/") {
            report.problems.append(.init(file: root + "/" + problem.prefix { $0 != " " }, offset: 0, detail: problem))
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
        let folders = Set(files.map { ((partial + "/" + $0.relativePath) as NSString).deletingLastPathComponent }).union([partial + "/wal"])
        for folder in folders.sorted() { try fs.createDirectory(folder) }
        var info = describe(id, createdAt)
        info.walFileSizes = [:]
        for file in files {
            let destination = partial + "/" + file.relativePath
            if file.copy { try fs.writeNewFile(destination, try fs.readFile(file.source)) }
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

    /// Removes snapshots whose creation or deletion was interrupted.
    func removeUnfinished() {
        for name in (try? fs.listDirectory(snapshotsDirectory)) ?? [] where name.hasPrefix(SnapshotLayout.partialPrefix) {
            try? fs.removeTree(snapshotsDirectory + "/" + name)
        }
    }

    /// Ids are generated by Cairn; anything else (a path, `..`) is not one.
    func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } && !id.hasPrefix("-")
    }

    /// A new id: `20261125-143005-1a2b`.
    static func newID(at milliseconds: Int64) -> String {
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
