import SystemPackage

/// Appends framed records to the newest WAL file and rotates to a new file when asked.
/// Used by one thread at a time (the commit pipeline); not synchronised itself.
final class WALWriter: @unchecked Sendable {
    let directory: String
    private(set) var sequence: Int
    private(set) var size: Int
    private var descriptor: FileDescriptor

    var path: String { directory + "/" + WALFormat.fileName(sequence) }

    /// Opens WAL file `sequence` for appending at `validLength`, cutting off anything after it
    /// (a torn tail), or creates it when it does not exist.
    init(directory: String, sequence: Int, validLength: Int?) throws {
        self.directory = directory
        self.sequence = sequence
        let path = directory + "/" + WALFormat.fileName(sequence)
        if let validLength, validLength >= WALFormat.fileHeaderSize {
            descriptor = try FileSystem.open(path, .writeOnly)
            try FileSystem.truncate(descriptor, to: validLength, path: path)
            try FileSystem.fullSync(descriptor, path: path)
            size = validLength
            do { _ = try descriptor.seek(offset: Int64(validLength), from: .start) }
            catch { throw FileSystem.ioError(path, "seek", error) }
        } else {
            (descriptor, size) = try WALWriter.createFile(path, directory: directory)
        }
    }

    private static func createFile(_ path: String, directory: String) throws -> (FileDescriptor, Int) {
        let fd = try FileSystem.open(path, .writeOnly, options: [.create, .truncate])
        let header = WALFormat.fileHeader
        try header.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: path) }
        try FileSystem.fullSync(fd, path: path)
        try FileSystem.syncDirectory(directory)
        return (fd, header.count)
    }

    /// Writes bytes at the end of the current file (not yet durable).
    func append(_ bytes: UnsafeRawBufferPointer) throws {
        try FileSystem.writeAll(descriptor, bytes, path: path)
        size += bytes.count
    }

    /// Makes everything appended so far durable.
    func sync() throws {
        try FileSystem.dataSync(descriptor, path: path)
    }

    /// Seals the current file (already synced) and starts the next one. Returns the new sequence.
    @discardableResult
    func rotate() throws -> Int {
        try sync()
        try? descriptor.close()
        sequence += 1
        (descriptor, size) = try WALWriter.createFile(path, directory: directory)
        return sequence
    }

    /// Removes every WAL file of a directory (only when initialising one that holds no records).
    static func discardAll(in directory: String) {
        for name in FileSystem.listDirectory(directory) where WALFormat.sequence(of: name) != nil {
            try? FileSystem.remove(directory + "/" + name)
        }
    }

    func close() {
        try? descriptor.close()
    }
}
