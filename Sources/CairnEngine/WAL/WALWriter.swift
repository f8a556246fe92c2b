import SystemPackage

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

    let directory: String
    private(set) var sequence: Int
    /// The end of the last record.
    private(set) var size: Int
    /// The file's length on disk (records plus zero-filled room).
    private var allocated: Int
    private var descriptor: FileDescriptor
    /// The file ends in a "closed" record and nothing was appended since (closing again adds none).
    private var endsClosed: Bool

    var path: String { directory + "/" + WALFormat.fileName(sequence) }

    /// Opens WAL file `sequence` for appending at `validLength`, cutting off anything after it
    /// (zero-filled room; recovery has moved a torn tail aside). Without a valid length the file
    /// is new and is created exclusively, so a live file is never truncated by mistake; only a
    /// file that holds no valid record (a torn header, an interrupted initialisation) is rewritten.
    /// `endsClosed` says that the valid part ends in a "closed" record.
    init(directory: String, sequence: Int, validLength: Int?, endsClosed: Bool = false) throws {
        self.endsClosed = endsClosed
        self.directory = directory
        self.sequence = sequence
        let path = directory + "/" + WALFormat.fileName(sequence)
        if let validLength, validLength >= WALFormat.fileHeaderSize {
            descriptor = try FileSystem.open(path, .writeOnly)
            try FileSystem.truncate(descriptor, to: validLength, path: path)
            try FileSystem.fullSync(descriptor, path: path)
            size = validLength
        } else {
            (descriptor, size) = try WALWriter.createFile(path, directory: directory, replacing: validLength != nil)
        }
        allocated = size
    }

    /// Writes a new file's header and makes the file and its name durable. `replacing` rewrites
    /// an existing file that holds nothing valid; otherwise the file must not exist.
    private static func createFile(_ path: String, directory: String, replacing: Bool = false) throws -> (FileDescriptor, Int) {
        let fd = try FileSystem.open(path, .writeOnly, options: replacing ? [.create, .truncate] : [.create, .exclusiveCreate])
        let header = WALFormat.fileHeader
        try header.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        try FileSystem.fullSync(fd, path: path)
        try FileSystem.syncDirectory(directory)
        return (fd, header.count)
    }

    /// Writes bytes after the last record (not yet durable).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        endsClosed = false
        if size + bytes.count > allocated { try preallocate(atLeast: size + bytes.count) }
        do { _ = try descriptor.writeAll(toAbsoluteOffset: Int64(size), bytes) }
        catch { throw FileSystem.ioError(path, "write", error) }
        size += bytes.count
    }

    /// Zero-fills the file up to at least `length` (the next sync makes the new size durable).
    /// When the disk has no room for a whole chunk ahead, it fills only what the write needs,
    /// so writes go on until the disk is really full; then the error says how much was needed.
    private func preallocate(atLeast length: Int) throws {
        do {
            try fillZeros(upTo: max(length, allocated + WALWriter.preallocationChunk))
        } catch where error == .noSpace {
            try FileSystem.truncate(descriptor, to: allocated, path: path)
            do { try fillZeros(upTo: length) } catch {
                try? FileSystem.truncate(descriptor, to: allocated, path: path)
                let reason = error == .noSpace ? "no space left on the device: the WAL needs \(length - allocated) more bytes" : error.description
                throw CairnError.io(path: path, operation: "write", reason: reason)
            }
        } catch {
            throw FileSystem.ioError(path, "write", error)
        }
    }

    private func fillZeros(upTo target: Int) throws(Errno) {
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset = allocated
        while offset < target {
            let count = min(zeros.count, target - offset)
            do { _ = try zeros.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: Int64(offset), UnsafeRawBufferPointer(rebasing: $0[0..<count])) } }
            catch { throw (error as? Errno) ?? .ioError }
            offset += count
        }
        allocated = target
    }

    /// Makes everything appended so far durable.
    func sync() throws {
        try FileSystem.dataSync(descriptor, path: path)
    }

    /// Cuts the file back to its records and makes that durable.
    private func trimAndSync() throws {
        if allocated > size {
            try FileSystem.truncate(descriptor, to: size, path: path)
            allocated = size
        }
        try FileSystem.fullSync(descriptor, path: path)
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
        let sealed = descriptor, sealedPath = path, sealedSize = size
        sequence += 1
        (descriptor, size) = try WALWriter.createFile(path, directory: directory)
        allocated = size
        endsClosed = false
        let seal = WALFormat.controlRecord(.sealed(next: sequence))
        do {
            _ = try seal.withUnsafeBytes { try sealed.writeAll(toAbsoluteOffset: Int64(sealedSize), $0) }
        } catch {
            try? sealed.close()
            throw FileSystem.ioError(sealedPath, "write", error)
        }
        defer { try? sealed.close() }
        try FileSystem.fullSync(sealed, path: sealedPath)
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
        try? descriptor.close()
    }
}
