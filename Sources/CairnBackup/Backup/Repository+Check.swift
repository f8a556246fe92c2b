import CairnEngine
import Foundation

/// What `repo check` found.
public struct RepositoryCheckReport: Codable, Sendable, Hashable {
    /// One damaged or missing object, and the backups that cannot be restored because of it.
    public struct Problem: Codable, Sendable, Hashable, CustomStringConvertible {
        public var object: String
        public var detail: String
        public var affectedBackups: [String]

        public var description: String {
            "\(object): \(detail)" + (affectedBackups.isEmpty ? "" : " (affects backups \(affectedBackups.joined(separator: ", ")))")
        }
    }

    public var backups = 0
    public var packs = 0
    public var blobs = 0
    /// Packs read, decrypted and checked blob by blob (with `readData`).
    public var packsRead = 0
    public var bytesRead = 0
    public var problems: [Problem] = []
}

extension Repository {
    /// Checks the repository's structure: every backup decodes, every blob any backup names is
    /// in the index, and every pack the index names exists with a plausible size. With
    /// `readData`, every pack is also read whole: its bytes against its name (SHA-256), its
    /// header, and each blob against its keyed id; with `subset` below 1, only that share of
    /// the packs, chosen at random (so repeated checks cover the repository over time).
    /// Problems name the object and the backups they affect; nothing is changed.
    public func check(readData: Bool = false, subset: Double = 1, progress handler: ProgressHandler? = nil) async throws -> RepositoryCheckReport {
        guard subset > 0, subset <= 1 else { throw RepositoryError.invalidArgument("the share of packs to read must be above 0% and at most 100%, got \(subset * 100)%") }
        return try await withLock(exclusive: false, operation: "check") {
            var report = RepositoryCheckReport()
            let index = try await BlobIndex.load(self)
            let packs = Dictionary(try await backend.list("data/").map { (FilePaths.name(of: $0.name), $0.size) }, uniquingKeysWith: { first, _ in first })
            report.packs = packs.count
            report.blobs = index.count
            var usersOfPack: [String: Set<String>] = [:]
            var problems: [String: (detail: String, backups: Set<String>)] = [:]
            func problem(_ object: String, _ detail: String, backup: String? = nil) {
                var entry = problems[object] ?? (detail, [])
                if let backup { entry.backups.insert(backup) }
                problems[object] = entry
            }
            for object in try await backend.list(BackupManifest.folder) {
                let id = String(object.name.dropFirst(BackupManifest.folder.count))
                report.backups += 1
                let backup: BackupManifest
                do { backup = try await loadBackup(id) } catch {
                    problem(object.name, "\(error)", backup: id)
                    continue
                }
                for file in backup.files {
                    for blob in file.blobs {
                        guard let location = index.location(of: blob) else {
                            problem("blob \(blob)", "named by \(file.path) but in no index", backup: id)
                            continue
                        }
                        usersOfPack[location.pack, default: []].insert(id)
                        guard let size = packs[location.pack] else {
                            problem(PackFormat.objectName(location.pack), "missing (holds blobs of \(file.path))", backup: id)
                            continue
                        }
                        if location.offset + location.length > size {
                            problem(PackFormat.objectName(location.pack), "shorter (\(size) bytes) than the index says", backup: id)
                        }
                    }
                }
            }
            if readData {
                var chosen = packs.keys.sorted()
            if subset < 1 { chosen = Array(chosen.shuffled().prefix(Int((Double(chosen.count) * subset).rounded(.up)))).sorted() }
            let progress = ProgressCounter(totalFiles: chosen.count, totalBytes: chosen.reduce(0) { $0 + packs[$1]! }, handler: handler)
            for pack in chosen {
                defer { progress.advance(bytes: packs[pack]!, fileDone: true) }
                    let name = PackFormat.objectName(pack)
                    let bytes = try await backend.get(name)
                    report.packsRead += 1
                    report.bytesRead += bytes.count
                    guard PackFormat.id(of: bytes) == pack else {
                        problems[name] = ("its bytes do not match its name (SHA-256): altered or truncated", usersOfPack[pack] ?? [])
                        continue
                    }
                    do {
                        for entry in try PackFormat.entries(ofPack: bytes, key: key, name: name) {
                            let plaintext = try SealedObject.open(Array(bytes[entry.offset..<(entry.offset + entry.length)]), kind: "blob", key: key, name: name)
                            if plaintext.withUnsafeBytes({ key.id(of: $0) }) != entry.id {
                                problems[name] = ("blob \(entry.id.prefix(12)) does not match its id", usersOfPack[pack] ?? [])
                            }
                        }
                    } catch {
                        problems[name] = ("\(error)", usersOfPack[pack] ?? [])
                    }
                }
            }
            report.problems = problems.sorted { $0.key < $1.key }.map {
                RepositoryCheckReport.Problem(object: $0.key, detail: $0.value.detail, affectedBackups: $0.value.backups.sorted())
            }
            return report
        }
    }
}
