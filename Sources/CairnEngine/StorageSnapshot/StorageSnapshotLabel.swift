import Foundation

/// The label a storage-snapshot window writes into the data directory (`storage-snapshot.json`),
/// so that a copy taken by an outside tool (LVM, ZFS, btrfs, a cloud volume snapshot, `cp -r`,
/// `rsync`) carries what it must hold and where its recovery must reach.
public struct StorageSnapshotLabel: Sendable, Codable, Hashable {
    static let fileName = "storage-snapshot.json"
    /// The label after `end`, kept for the record (not honoured as a window).
    static let endedFileName = "storage-snapshot.ended.json"
    /// A label whose window was not ended in time.
    static let expiredFileName = "storage-snapshot.expired.json"
    /// A copy's label once the copy has been opened and checked against it.
    static let restoredFileName = "storage-snapshot.restored.json"

    /// The name the operator gave the window (for example the LVM snapshot's).
    public var label: String
    /// The database the label belongs to.
    public var databaseID: String
    /// Every write acknowledged before `begin` returned is at or before this LSN; a copy taken
    /// in the window recovers at least this far.
    public var startLSN: UInt64
    /// Set by `end`.
    public var endLSN: UInt64?
    /// ms since the epoch.
    public var beganAt: Int64
    /// When the window ends by itself if `end` is not called (ms since the epoch).
    public var expiresAt: Int64
    /// The files (relative to the data directory) a copy must contain.
    public var files: [String]
    /// The data directory's device and inode when the label was written: a copy has others.
    public var directoryIdentity: String
    /// How long writers were held at `begin` (the WAL rotation of its checkpoint).
    public var writerPauseMilliseconds: Double

    static func load(_ path: String, fs: any FileSystem) throws -> StorageSnapshotLabel {
        do { return try JSONDecoder().decode(StorageSnapshotLabel.self, from: Data(try fs.readFile(path))) }
        catch let error as CairnError { throw error }
        catch { throw CairnError.corruption(file: path, offset: 0, detail: "storage-snapshot label is not valid: \(error)") }
    }

    func write(to path: String, fs: any FileSystem) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try fs.atomicReplace(path, with: [UInt8](try encoder.encode(self)))
    }

    /// `device:inode` of a directory.
    static func identity(of directory: String) -> String {
        var info = stat()
        guard stat(directory, &info) == 0 else { return "unknown" }
        return "\(info.st_dev):\(info.st_ino)"
    }
}
