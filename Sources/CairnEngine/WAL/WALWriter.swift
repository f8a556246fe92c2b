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

    var path: String { directory + "/" + WALFormat.fileName(sequence) }

    /// Opens WAL file `sequence` for appending at `validLength`, cutting off anything after it
    /// (a torn tail or zero-filled room), or creates it when it does not exist.
    init(directory: String, sequence: Int, validLength: Int?) throws {
        self.directory = directory
        self.sequence = sequence
        let path = directory + "/" + WALFormat.fileName(sequence)
        if let validLength, validLength >= WALFormat.fileHeaderSize {
            descriptor = try FileSystem.open(path, .writeOnly)
            try FileSystem.truncate(descriptor, to: validLength, path: path)
            try FileSystem.fullSync(descriptor, path: path)
            size = validLength
        } else {
            (descriptor, size) = try WALWriter.createFile(path, directory: directory)
        }
        allocated = size
    }

    private static func createFile(_ path: String, directory: String) throws -> (FileDescriptor, Int) {
        let fd = try FileSystem.open(path, .writeOnly, options: [.create, .truncate])
        let header = WALFormat.fileHeader
        try header.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        try FileSystem.fullSync(fd, path: path)
        try FileSystem.syncDirectory(directory)
        return (fd, header.count)
    }

    /// Writes bytes after the last record (not yet durable).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        if size + bytes.count > allocated { try preallocate(atLeast: size + bytes.count) }
        do { _ = try descriptor.writeAll(toAbsoluteOffset: Int64(size), bytes) }
        catch { throw FileSystem.ioError(path, "write", error) }
        size += bytes.count
    }

    /// Zero-fills the file up to at least `length` (the next sync makes the new size durable).
    private func preallocate(atLeast length: Int) throws {
        let target = max(length, allocated + WALWriter.preallocationChunk)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var offset = allocated
        while offset < target {
            let count = min(zeros.count, target - offset)
            do { _ = try zeros.withUnsafeBytes { try descriptor.writeAll(toAbsoluteOffset: Int64(offset), UnsafeRawBufferPointer(rebasing: $0[0..<count])) } }
            catch { throw FileSystem.ioError(path, "write", error) }
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

    /// Seals the current file (trimmed to its records) and starts the next one. Returns the new sequence.
    @discardableResult
    func rotate() throws -> Int {
        try trimAndSync()
        try? descriptor.close()
        sequence += 1
        (descriptor, size) = try WALWriter.createFile(path, directory: directory)
        allocated = size
        return sequence
    }

    /// Removes every WAL file of a directory (only when initialising one that holds no records).
    static func discardAll(in directory: String) {
        for name in FileSystem.listDirectory(directory) where WALFormat.sequence(of: name) != nil {
            try? FileSystem.remove(directory + "/" + name)
        }
    }

    /// Trims the zero-filled room and closes the file.
    func close() {
        try? trimAndSync()
        try? descriptor.close()
    }
}
