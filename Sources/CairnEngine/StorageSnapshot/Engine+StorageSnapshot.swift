import Foundation
import Logging

extension Engine {
    var storageLabelPath: String { directory + "/" + StorageSnapshotLabel.fileName }

    /// Opens a storage-snapshot window (PostgreSQL's non-exclusive backup mode is the model):
    /// checkpoints, which seals the WAL, then holds compaction and every file deletion and writes
    /// a label naming the start LSN and the files a copy must contain. Writers keep going. Until
    /// `endStorageSnapshot` (or `timeout` seconds), any copy of the directory recovers to at
    /// least the start LSN. The window survives closing the database: whoever opens it next
    /// honours the label.
    package func beginStorageSnapshot(label: String, timeout: Double = 3600) async throws -> StorageSnapshotLabel {
        guard timeout > 0 else { throw CairnError.invalidArgument("the timeout must be positive") }
        if let open = storageWindow.withLock({ $0 }) { throw CairnError.storageSnapshotInProgress(label: open.label) }
        // The hold comes first: a compaction between reading the manifest and opening the window
        // must not delete a file the label names. The open window takes the hold over.
        deletions.acquire()
        var holdTaken = false
        defer { if !holdTaken { deletions.release() } }
        try await flush()
        let (manifest, pause) = state.withLock { ($0.version.manifest, $0.lastFreezePauseMilliseconds) }
        reachedStep("storage-snapshot-manifest-read")
        let now = Clock.milliseconds()
        let files = ["CURRENT", "manifests/" + Manifest.fileName(manifest.sequence)] + manifest.segments.map(\.relativePath)
            + ((manifest.restoredWAL ?? []) + [WALFormat.fileName(manifest.walStartSequence)]).map { "wal/" + $0 }
        let window = StorageSnapshotLabel(label: label, databaseID: manifest.databaseID, startLSN: manifest.checkpointLSN,
                                          beganAt: now, expiresAt: now + Int64(timeout * 1000), files: files,
                                          directoryIdentity: StorageSnapshotLabel.identity(of: directory),
                                          writerPauseMilliseconds: pause)
        try openStorageWindow(window)
        holdTaken = true
        do { try await runBlocking { [storageLabelPath, fs] in try window.write(to: storageLabelPath, fs: fs) } } catch {
            closeStorageWindow()
            throw error
        }
        logger.info("storage-snapshot window opened", metadata: ["label": "\(label)", "startLSN": "\(window.startLSN)"])
        return window
    }

    /// Ends the storage-snapshot window: records the end LSN in the label (kept as
    /// `storage-snapshot.ended.json`) and releases the hold on compaction and deletions.
    package func endStorageSnapshot() async throws -> StorageSnapshotLabel {
        guard var window = storageWindow.withLock({ $0 }) else { throw CairnError.noStorageSnapshot }
        window.endLSN = state.withLock { $0.appliedLSN }
        let ended = window
        try await runBlocking { [directory, storageLabelPath, fs] in
            try ended.write(to: directory + "/" + StorageSnapshotLabel.endedFileName, fs: fs)
            try fs.remove(storageLabelPath)
            try fs.syncDirectory(directory)
        }
        closeStorageWindow()
        logger.info("storage-snapshot window closed", metadata: ["label": "\(window.label)", "endLSN": "\(ended.endLSN!)"])
        return ended
    }

    /// The open storage-snapshot window, if any.
    package var storageSnapshotWindow: StorageSnapshotLabel? { storageWindow.withLock { $0 } }

    /// Opens the window; the caller has taken the deletion hold that the window then owns.
    private func openStorageWindow(_ window: StorageSnapshotLabel) throws {
        let opened = storageWindow.withLock { current -> Bool in
            guard current == nil else { return false }
            current = window
            return true
        }
        guard opened else { throw CairnError.storageSnapshotInProgress(label: window.label) }
    }

    private func closeStorageWindow() {
        let wasOpen = storageWindow.withLock { current -> Bool in
            defer { current = nil }
            return current != nil
        }
        if wasOpen { deletions.release() }
    }

    /// Releases a window whose time is up, with a warning (called by the maintenance thread).
    func expireStorageWindow() {
        guard let window = storageWindow.withLock({ $0 }), Clock.milliseconds() >= window.expiresAt else { return }
        logger.warning("storage-snapshot window timed out without end; releasing the hold", metadata: ["label": "\(window.label)"])
        try? fs.rename(storageLabelPath, to: directory + "/" + StorageSnapshotLabel.expiredFileName)
        try? fs.syncDirectory(directory)
        closeStorageWindow()
    }

    /// On open: a label in this very directory re-opens its window (or expires it); a label
    /// that came with a copy is checked (recovery must have reached its start LSN) and set aside.
    static func adoptStorageLabel(directory: String, appliedLSN: UInt64, fs: any FileSystem, logger: Logger) throws -> StorageSnapshotLabel? {
        let path = directory + "/" + StorageSnapshotLabel.fileName
        guard fs.exists(path) else { return nil }
        let label = try StorageSnapshotLabel.load(path, fs: fs)
        if label.directoryIdentity != StorageSnapshotLabel.identity(of: directory) {
            guard appliedLSN >= label.startLSN else {
                throw CairnError.corruption(file: path, offset: 0, detail: "this copy recovers to LSN \(appliedLSN), "
                                            + "but its storage snapshot began at LSN \(label.startLSN): files are missing from the copy")
            }
            try fs.rename(path, to: directory + "/" + StorageSnapshotLabel.restoredFileName)
            try fs.syncDirectory(directory)
            logger.info("opened a storage-snapshot copy", metadata: ["label": "\(label.label)", "startLSN": "\(label.startLSN)"])
            return nil
        }
        if Clock.milliseconds() >= label.expiresAt {
            logger.warning("storage-snapshot window timed out without end; releasing the hold", metadata: ["label": "\(label.label)"])
            try fs.rename(path, to: directory + "/" + StorageSnapshotLabel.expiredFileName)
            return nil
        }
        return label
    }
}
