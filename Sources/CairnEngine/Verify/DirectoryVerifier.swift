import Foundation

/// The verdict on a data directory that is not open: whether it is consistent and restorable,
/// and every problem found, each with its file and offset.
public struct VerifyReport: Sendable, Codable, Hashable {
    /// One thing wrong with a file: where it is and what it is.
    public struct Problem: Sendable, Codable, Hashable, CustomStringConvertible {
        /// The file, by path.
        public var file: String
        /// The byte offset in the file where the problem starts.
        public var offset: Int
        /// What is wrong.
        public var detail: String
        public var description: String { "\(file) at offset \(offset): \(detail)" }
    }

    /// The data directory checked.
    public var directory: String
    /// What stops the directory from opening, or loses data; empty when it is consistent.
    public var problems: [Problem]
    /// Things that do not stop the directory from opening but that a person should know: a torn
    /// WAL tail a crash left (opening moves it aside and loses the unacknowledged write in it).
    public var warnings: [Problem] = []
    /// A process holds the directory open: the check read a moving database. Its files are
    /// consistent as read, but a copy should be taken inside a storage-snapshot window.
    public var heldOpen = false
    /// Files read completely and bytes checksummed.
    public var checkedFiles: Int
    /// Bytes read and checksummed.
    public var checkedBytes: Int
    /// Wall time of the check.
    public var seconds: Double
    /// The checkpoint of the manifest `CURRENT` names, and the last LSN the WAL holds after it.
    public var checkpointLSN: UInt64?
    /// The last LSN found in the WAL after the checkpoint.
    public var lastLSN: UInt64?
    /// The storage-snapshot label found in the directory, if any.
    public var label: StorageSnapshotLabel?

    /// True when nothing is wrong: the directory opens as a database.
    public var isConsistent: Bool { problems.isEmpty }
}

/// Checks a data directory without opening it for writing: the manifest `CURRENT` names, the
/// size and CRC32C of every segment it lists, WAL continuity after its checkpoint (LSNs without
/// gaps, valid records up to a possibly torn tail of the newest file) and the storage-snapshot
/// label, if there is one.
struct DirectoryVerifier {
    let fs: any FileSystem
    let directory: String
    private(set) var problems: [VerifyReport.Problem] = []
    private(set) var warnings: [VerifyReport.Problem] = []
    private(set) var checkedFiles = 0
    private(set) var checkedBytes = 0

    init(fs: any FileSystem, directory: String) {
        self.fs = fs
        self.directory = directory
    }

    private mutating func problem(_ file: String, _ offset: Int, _ detail: String) {
        problems.append(.init(file: file, offset: offset, detail: detail))
    }

    private mutating func record(_ error: Error, file: String) {
        if case let CairnError.corruption(path, offset, detail) = error { problem(path, offset, detail) }
        else { problem(file, 0, "\(error)") }
    }

    /// Checks `directory` as it would open: the manifest `CURRENT` names, or `manifest` when
    /// one is given (a candidate for `CURRENT`).
    /// A snapshot directory is checked with `isLive` false: its WAL files are all sealed and
    /// complete (no torn tail anywhere).
    static func verify(_ directory: String, fs: any FileSystem, manifest given: Manifest? = nil, isLive: Bool = true) -> VerifyReport {
        let started = ContinuousClock.now
        var verifier = DirectoryVerifier(fs: fs, directory: directory)
        var report = VerifyReport(directory: directory, problems: [], checkedFiles: 0, checkedBytes: 0, seconds: 0)
        if let manifest = given ?? verifier.checkManifest() {
            report.checkpointLSN = manifest.checkpointLSN
            verifier.checkSegments(manifest)
            report.lastLSN = verifier.checkWAL(manifest, isLive: isLive)
            report.label = verifier.checkLabel(lastLSN: report.lastLSN ?? manifest.checkpointLSN)
        }
        report.problems = verifier.problems
        report.warnings = verifier.warnings
        report.heldOpen = isLive && fs.isLocked(directory)
        report.checkedFiles = verifier.checkedFiles
        report.checkedBytes = verifier.checkedBytes
        report.seconds = (ContinuousClock.now - started).milliseconds / 1000
        return report
    }

    private mutating func checkManifest() -> Manifest? {
        let store = ManifestStore(fs: fs, directory: directory)
        guard fs.exists(directory) else {
            problem(directory, 0, "no such directory")
            return nil
        }
        guard fs.exists(store.currentPath) else {
            problem(store.currentPath, 0, "CURRENT is missing: this is not a Cairn data directory, or the copy is incomplete")
            return nil
        }
        do {
            return try store.loadCurrent()
        } catch {
            record(error, file: store.currentPath)
            return nil
        }
    }

    /// Every segment exists with the size and whole-file CRC32C the manifest records.
    private mutating func checkSegments(_ manifest: Manifest) {
        for segment in manifest.segments {
            let path = directory + "/" + segment.relativePath
            guard fs.exists(path) else {
                problem(path, 0, "segment listed in the manifest is missing")
                continue
            }
            do {
                let (size, crc) = try fs.map(path).withBytes { ($0.count, CRC32C.checksum($0)) }
                guard size == segment.bytes else {
                    problem(path, size, "segment has \(size) bytes, the manifest says \(segment.bytes)")
                    continue
                }
                checkedFiles += 1
                checkedBytes += size
                if crc != segment.crc32c {
                    problem(path, 0, "segment fails its checksum (CRC32C \(String(crc, radix: 16)), the manifest says \(String(segment.crc32c, radix: 16)))")
                }
            } catch {
                record(error, file: path)
            }
        }
    }

    /// The WAL after the checkpoint, by the rules recovery applies (`WALChain`). Returns the
    /// last valid LSN.
    private mutating func checkWAL(_ manifest: Manifest, isLive: Bool) -> UInt64 {
        let walDirectory = directory + "/wal"
        do {
            let chain = try WALChain(fs: fs, walDirectory: walDirectory, manifest: manifest, isLive: isLive)
            let outcome = try chain.scan { _, _, _, _ in }
            if let (path, tail) = outcome.torn {
                warnings.append(.init(file: path, offset: tail.start, detail: "torn tail left by a crash: bytes \(tail.start)..<\(tail.end)"
                    + " (\(tail.recordHeaders) records with an intact header) were never acknowledged; opening moves them aside"))
            }
            checkedFiles += chain.files.count
            checkedBytes += outcome.bytesRead
            return outcome.lastLSN
        } catch {
            record(error, file: walDirectory)
            return manifest.checkpointLSN
        }
    }

    /// A storage-snapshot label must match this directory: its files present, and the WAL
    /// reaching its start LSN.
    private mutating func checkLabel(lastLSN: UInt64) -> StorageSnapshotLabel? {
        let path = directory + "/" + StorageSnapshotLabel.fileName
        guard fs.exists(path) else { return nil }
        do {
            let label = try StorageSnapshotLabel.load(path, fs: fs)
            for file in label.files where !fs.exists(directory + "/" + file) {
                problem(directory + "/" + file, 0, "the storage-snapshot label names this file, but the copy lacks it")
            }
            if lastLSN < label.startLSN {
                problem(path, 0, "the copy reaches LSN \(lastLSN), but the storage snapshot began at LSN \(label.startLSN)")
            }
            return label
        } catch {
            record(error, file: path)
            return nil
        }
    }
}

extension Engine {
    /// Checks the data directory at `directory` without opening it for writing (it may be a
    /// copy, or a database another process has open): see `VerifyReport`.
    package static func verify(at directory: String, options: EngineOptions = EngineOptions()) async -> VerifyReport {
        (try? await runBlocking { DirectoryVerifier.verify(directory, fs: options.fileSystem) })
            ?? VerifyReport(directory: directory, problems: [.init(file: directory, offset: 0, detail: "verification did not run")],
                            checkedFiles: 0, checkedBytes: 0, seconds: 0)
    }
}
