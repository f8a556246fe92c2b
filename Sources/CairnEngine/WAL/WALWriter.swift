import Foundation

/// Appends framed records to the newest WAL file and rotates to a new file when asked.
/// Used by one thread at a time (the commit pipeline); not synchronised itself.
///
/// The file is extended ahead of the records in zero-filled chunks, so most syncs only flush
/// data: an `fdatasync` that must also journal a new file size costs about 1.5× as much. The
/// zeros after the last record read as the clean end of the log. A sealed file, and a file closed
/// cleanly, is cut back to its records.
final class WALWriter: @unchecked Sendable {
    /// How far ahead of the records the file is zero-filled.
    static let preallocationChunk = 4 << 20

    let fs: any FileSystem
    let directory: String
    private(set) var sequence: Int
    /// The end of the last record.
    private(set) var size: Int
    /// The file's length on disk (records plus zero-filled room).
    private var allocated: Int
    private var file: any WritableFile
    /// The file ends in a "closed" record and nothing was appended since (closing again adds none).
    private var endsClosed: Bool

    var path: String { directory + "/" + WALFormat.fileName(sequence) }

    /// Opens WAL file `sequence` for appending at `validLength`, cutting off anything after it
    /// (zero-filled room; recovery has moved a torn tail aside). Without a valid length the file
    /// is new and is created exclusively, so a live file is never truncated by mistake; only a
    /// file that holds no valid record (a torn header, an interrupted initialisation) is rewritten.
    /// `endsClosed` says that the valid part ends in a "closed" record.
    init(fs: any FileSystem, directory: String, sequence: Int, validLength: Int?, endsClosed: Bool = false) throws {
        self.fs = fs
        self.endsClosed = endsClosed
        self.directory = directory
        self.sequence = sequence
        let path = directory + "/" + WALFormat.fileName(sequence)
        if let validLength, validLength >= WALFormat.fileHeaderSize {
            file = try fs.openForWriting(path, .existing)
            try file.truncate(to: validLength)
            try file.fullSync()
            size = validLength
        } else {
            (file, size) = try WALWriter.createFile(path, fs: fs, directory: directory, replacing: validLength != nil)
        }
        allocated = size
    }

    /// Writes a new file's header and makes the file and its name durable. `replacing` rewrites
    /// an existing file that holds nothing valid; otherwise the file must not exist.
    private static func createFile(_ path: String, fs: any FileSystem, directory: String,
                                   replacing: Bool = false) throws -> (any WritableFile, Int) {
        let file = try fs.openForWriting(path, replacing ? .createOrTruncate : .createNew)
        let header = WALFormat.fileHeader
        try header.withUnsafeBytes { try file.write($0, at: 0) }
        try file.fullSync()
        try fs.syncDirectory(directory)
        return (file, header.count)
    }

    /// Writes bytes after the last record (not yet durable).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        endsClosed = false
        if size + bytes.count > allocated { try preallocate(atLeast: size + bytes.count) }
        try file.write(bytes, at: size)
        size += bytes.count
    }

    /// Zero-fills the file up to at least `length` (the next sync makes the new size durable).
    /// When the disk has no room for a whole chunk ahead, it fills only what the write needs,
    /// so writes go on until the disk is really full; then the error says how much was needed.
    private func preallocate(atLeast length: Int) throws {
        do {
            try fillZeros(upTo: max(length, allocated + WALWriter.preallocationChunk))
        } catch let CairnError.io(_, _, _, code) where code == ENOSPC {
            try file.truncate(to: allocated)
            do { try fillZeros(upTo: length) } catch let CairnError.io(_, _, reason, code) {
                try? file.truncate(to: allocated)
                let reason = code == ENOSPC ? "no space left on the device: the WAL needs \(length - allocated) more bytes" : reason
                throw CairnError.io(path: path, operation: "write", reason: reason, errno: code)
            }
        }
    }

    private func fillZeros(upTo target: Int) throws {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset = allocated
        while offset < target {
            let count = min(zeros.count, target - offset)
            try zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
            offset += count
        }
        allocated = target
    }

    /// Makes everything appended so far durable.
    func sync() throws {
        try file.dataSync()
    }

    /// Cuts the file back to its records and makes that durable.
    private func trimAndSync() throws {
        if allocated > size {
            try file.truncate(to: size)
            allocated = size
        }
        try file.fullSync()
    }

    /// Seals the current file and starts the next one. Returns the new sequence.
    ///
    /// The order makes a deleted newest file detectable without a crash ever looking like one:
    /// the sealed file is cut back to its records, the new file is created and its name made
    /// durable, and only then does the old file get its last record, "sealed: continues in N+1".
    /// A file that ends sealed therefore always had a durable successor.
    @discardableResult
    func rotate() throws -> Int {
        try trimAndSync()
        let sealed = file, sealedSize = size
        (file, size) = try WALWriter.createFile(directory + "/" + WALFormat.fileName(sequence + 1), fs: fs, directory: directory)
        sequence += 1
        allocated = size
        endsClosed = false
        defer { sealed.close() }
        let seal = WALFormat.controlRecord(.sealed(next: sequence))
        try seal.withUnsafeBytes { try sealed.write($0, at: sealedSize) }
        try sealed.fullSync()
        return sequence
    }

    /// Trims the zero-filled room and closes the file. With `lastLSN` (a clean close, every
    /// write durable) it first appends a "closed" record, so that damage to the last mutation
    /// is later reported as corruption instead of being taken for a torn write.
    func close(lastLSN: UInt64? = nil) {
        if let lastLSN, !endsClosed {
            let record = WALFormat.controlRecord(.closed(lastLSN: lastLSN))
            _ = try? record.withUnsafeBytes { try append($0) }
        }
        try? trimAndSync()
        file.close()
    }
}
