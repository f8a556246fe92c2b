import Foundation

/// What a data directory without `CURRENT` still holds of a database. Opening such a directory
/// must not treat it as new (initialising would bury the files); it is refused with this
/// account, and the newest manifest that passes its checksum is offered as the candidate a
/// person may make current explicitly (`Engine.repairCurrent`), never automatically.
struct OrphanedDatabase {
    var directory: String
    var manifests = 0
    var segmentFiles = 0
    var walFilesWithRecords = 0
    var snapshots = 0
    /// The newest manifest that decodes and passes its checksum.
    var candidate: String?
    private var candidateSequence = 0

    /// The account of `directory`, or nil when it holds nothing of a database (a new directory,
    /// or an initialisation that was interrupted before it wrote anything but empty files).
    /// A directory that cannot be listed throws: what it holds cannot be accounted for.
    static func find(in directory: String, fs: any FileSystem) throws -> OrphanedDatabase? {
        var found = OrphanedDatabase(directory: directory)
        let manifestsDirectory = directory + "/manifests"
        for name in try fs.listDirectory(manifestsDirectory) where Manifest.sequence(of: name) != nil {
            let path = manifestsDirectory + "/" + name
            guard let manifest = try? Manifest.decode(fs.readFile(path), path: path) else {
                found.manifests += 1
                continue
            }
            if manifest.isEmptyDatabase { continue }
            found.manifests += 1
            if found.candidate == nil || found.candidateSequence < manifest.sequence {
                found.candidate = name
                found.candidateSequence = manifest.sequence
            }
        }
        found.segmentFiles = try countFiles(under: directory + "/segments", fs: fs)
        let walDirectory = directory + "/wal"
        for name in try fs.listDirectory(walDirectory) where !holdsNoMutation(walDirectory + "/" + name, fs: fs) {
            found.walFilesWithRecords += 1
        }
        found.snapshots = try fs.listDirectory(directory + "/snapshots").count
        let holdsSomething = found.manifests + found.segmentFiles + found.walFilesWithRecords + found.snapshots > 0
        return holdsSomething ? found : nil
    }

    /// Whether a file is a WAL file without a single mutation record (only control records).
    private static func holdsNoMutation(_ path: String, fs: any FileSystem) -> Bool {
        guard let file = try? fs.map(path) else { return false }
        var mutations = 0
        let outcome = file.withBytes { try? WALReader(path: path, bytes: $0, isNewest: true).scan { _, _, _ in mutations += 1 } }
        return outcome != nil && outcome?.torn == nil && mutations == 0
    }

    private static func countFiles(under path: String, fs: any FileSystem) throws -> Int {
        var count = 0
        for name in try fs.listDirectory(path) {
            count += fs.isDirectory(path + "/" + name) ? try countFiles(under: path + "/" + name, fs: fs) : 1
        }
        return count
    }

    /// The refusal: what is there, that nothing was changed, and the candidate manifest.
    var error: CairnError {
        let parts = [(manifests, "manifest"), (segmentFiles, "segment file"), (walFilesWithRecords, "WAL file with records"),
                     (snapshots, "snapshot")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)\($0.0 == 1 ? "" : "s")" }
        return .currentMissing(directory: directory, contents: parts.joined(separator: ", "), candidate: candidate)
    }
}
