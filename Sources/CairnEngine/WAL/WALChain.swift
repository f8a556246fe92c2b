/// The WAL files that follow a manifest's checkpoint, in replay order: the files a rollback
/// restored (`Manifest.restoredWAL`), then the numbered files from `walStartSequence` on. Opening
/// a database replays them and `verify` checks them, both through `scan`, so both hold the log
/// to the same rules: no missing file (the first is named by the manifest, each sealed file
/// names its successor), no gap in the numbering or the LSNs, and a torn tail only at the end of
/// a live log: in its newest file, or in the one before when a crash interrupted the rotation
/// (the newest file then holds no record yet, and the seal of the one before may be torn).
struct WALChain {
    let fs: any FileSystem
    let walDirectory: String
    let manifest: Manifest
    /// File names in replay order.
    let files: [String]
    /// The numbered files' sequence numbers, ascending (the last is where writing continues).
    let sequences: [Int]
    /// A live log continues in its newest file, which may end in a torn write and must not be
    /// sealed. A snapshot's log is a closed set of sealed files: complete, its last one sealed.
    let isLive: Bool

    /// The chain in `walDirectory`, or `corruption` naming the first missing file.
    init(fs: any FileSystem, walDirectory: String, manifest: Manifest, isLive: Bool = true) throws {
        self.fs = fs
        self.walDirectory = walDirectory
        self.manifest = manifest
        self.isLive = isLive
        sequences = try fs.listDirectory(walDirectory).compactMap(WALFormat.sequence(of:))
            .filter { $0 >= manifest.walStartSequence }.sorted()
        if sequences.first != manifest.walStartSequence {
            throw CairnError.corruption(file: walDirectory + "/" + WALFormat.fileName(manifest.walStartSequence), offset: 0,
                                        detail: "the WAL file the manifest names as the first after its checkpoint is missing")
        }
        for (previous, next) in zip(sequences, sequences.dropFirst()) where next != previous + 1 {
            throw CairnError.corruption(file: walDirectory + "/" + WALFormat.fileName(previous + 1), offset: 0,
                                        detail: "WAL file is missing (gap between \(previous) and \(next))")
        }
        let restored = manifest.restoredWAL ?? []
        for name in restored where !fs.exists(walDirectory + "/" + name) {
            throw CairnError.corruption(file: walDirectory + "/" + name, offset: 0, detail: "a WAL file the manifest needs is missing")
        }
        files = restored + sequences.map(WALFormat.fileName)
    }

    /// What a scan found.
    struct Outcome {
        /// The last LSN in the log (the checkpoint when no record follows it).
        var lastLSN: UInt64
        /// Where the valid records of the newest numbered file end.
        var validLengthOfNewest: Int?
        /// The damaged end of the newest file, left by a crash (a live log only).
        var torn: (path: String, tail: WALReader.TornTail)?
        /// The newest file ends in a "closed" record: the database was closed cleanly.
        var closedCleanly = false
        var bytesRead = 0
    }

    /// Calls `body` for every record after the checkpoint, in LSN order, checking that the LSNs
    /// continue without a gap. Throws `corruption` with the file and offset of the first problem.
    func scan(_ body: (_ lsn: UInt64, _ payload: UnsafeRawBufferPointer, _ path: String, _ offset: Int) throws -> Void) throws -> Outcome {
        var outcome = Outcome(lastLSN: manifest.checkpointLSN)
        let restoredCount = files.count - sequences.count
        // A rotation writes the seal into the old file after the new file exists: a crash in
        // between leaves an empty newest file and, perhaps, a torn seal one file earlier.
        let newestIsEmpty = try sequences.last.map { try fs.fileSize(walDirectory + "/" + WALFormat.fileName($0)) <= WALFormat.fileHeaderSize } ?? false
        for (index, name) in files.enumerated() {
            let path = walDirectory + "/" + name
            let isLast = index == files.count - 1
            let mayBeTorn = isLast || (newestIsEmpty && index == files.count - 2)
            let result = try fs.map(path).withBytes { bytes in
                outcome.bytesRead += bytes.count
                let reader = WALReader(path: path, bytes: bytes, isNewest: isLive && mayBeTorn && index >= restoredCount)
                return try reader.scan { lsn, payload, offset in
                    if lsn <= outcome.lastLSN && lsn <= manifest.checkpointLSN { return }
                    guard lsn == outcome.lastLSN + 1 else {
                        throw CairnError.corruption(file: path, offset: offset, detail: "WAL gap: expected LSN \(outcome.lastLSN + 1), found \(lsn)")
                    }
                    try body(lsn, payload, path, offset)
                    outcome.lastLSN = lsn
                }
            }
            if let torn = result.torn {
                guard outcome.torn == nil else {
                    throw CairnError.corruption(file: path, offset: torn.start, detail: "WAL record fails its checksum or is cut short")
                }
                outcome.torn = (path, torn)
            }
            if index >= restoredCount { outcome.validLengthOfNewest = result.validLength }
            if case let .sealed(next) = result.finalControl {
                if isLive && isLast {
                    throw CairnError.corruption(file: walDirectory + "/" + WALFormat.fileName(next), offset: 0,
                                                detail: "WAL file is missing: \(name) was sealed and the log continues in it")
                }
                if index >= restoredCount, !isLast, next != sequences[index - restoredCount + 1] {
                    throw CairnError.corruption(file: path, offset: result.validLength, detail: "sealed WAL file names \(WALFormat.fileName(next)) as its successor")
                }
            }
            if isLast, case .closed = result.finalControl { outcome.closedCleanly = true }
        }
        return outcome
    }
}
