import CairnEngine
import Foundation

/// One file of a backup: where it goes (relative to the data directory), its size and CRC32C
/// (the engine's own checksum of the whole file), and the blobs that hold its bytes in order.
struct BackedUpFile: Codable, Sendable, Hashable {
    var path: String
    var size: Int
    var crc32c: UInt32
    var blobs: [String]
}

/// Moves whole files between a data directory and a repository, a part at a time: a file is
/// cut into parts of `RepositoryConfig.partBytes`, each part a blob. Memory holds one part.
enum FileParts {
    /// Parts read and sealed together (in parallel, one per core here): 8 MiB in memory at a time.
    static let partsAtOnce = 2

    /// Stores the file at `source` and describes it as `path`. The file is read a part at a
    /// time (not mapped: what was read leaves memory with the part).
    static func store(_ source: String, as path: String, fs: any FileSystem, writer: PackWriter,
                      partBytes: Int, progress: ProgressCounter = .silent) async throws -> BackedUpFile {
        var blobs: [String] = []
        var crc: UInt32 = 0
        var start = 0
        let size = try fs.fileSize(source)
        while start < size {
            // A few parts at a time, sealed in parallel.
            var parts: [[UInt8]] = []
            while start < size, parts.count < partsAtOnce {
                let part = try fs.readFile(source, range: start..<min(start + partBytes, size))
                guard part.count == min(partBytes, size - start) else {
                    throw CairnError.corruption(file: source, offset: start + part.count,
                                                detail: "the file ended at \(start + part.count) bytes while being backed up; \(size) were expected")
                }
                crc = part.withUnsafeBytes { CRC32C.checksum($0, extending: crc) }
                parts.append(part)
                start += part.count
            }
            blobs += try await writer.add(parts)
            progress.advance(bytes: parts.reduce(0) { $0 + $1.count })
        }
        progress.advance(bytes: 0, fileDone: true)
        return BackedUpFile(path: path, size: size, crc32c: crc, blobs: blobs)
    }

    /// Writes `file` as the new file `destination` from its blobs, each checked against its id
    /// as it arrives, then the whole file against its size and CRC32C, then fsyncs it.
    static func restore(_ file: BackedUpFile, to destination: String, fs: any FileSystem, repository: Repository,
                        index: BlobIndex, progress: ProgressCounter = .silent) async throws {
        nonisolated(unsafe) let output = try fs.openForWriting(destination, .createNew)
        defer { output.close() }
        var offset = 0
        var crc: UInt32 = 0
        // Parts are fetched (read, checked, decrypted) while the previous ones are written.
        var writing: Task<Void, Error>?
        do {
            for start in stride(from: 0, to: file.blobs.count, by: partsAtOnce) {
                let parts = try await fetch(Array(file.blobs[start..<min(start + partsAtOnce, file.blobs.count)]), of: file, from: repository, index: index)
                for part in parts { crc = part.withUnsafeBytes { CRC32C.checksum($0, extending: crc) } }
                try await writing?.value
                let at = offset
                offset += parts.reduce(0) { $0 + $1.count }
                writing = Task {
                    var position = at
                    for part in parts {
                        try part.withUnsafeBytes { try output.write($0, at: position) }
                        position += part.count
                        progress.advance(bytes: part.count)
                    }
                }
            }
            try await writing?.value
        } catch {
            _ = await writing?.result
            throw error
        }
        guard offset == file.size, crc == file.crc32c else {
            throw RepositoryError.damaged(object: file.path, reason: "restored \(offset) bytes with CRC32C \(String(crc, radix: 16)); "
                                          + "the backup recorded \(file.size) bytes with \(String(file.crc32c, radix: 16))")
        }
        try output.fullSync()
        progress.advance(bytes: 0, fileDone: true)
    }

    /// The plaintexts of blobs `ids` of `file`, read and checked in parallel, in order.
    private static func fetch(_ ids: [String], of file: BackedUpFile, from repository: Repository, index: BlobIndex) async throws -> [[UInt8]] {
        try await withThrowingTaskGroup(of: (Int, [UInt8]).self) { group in
            for (position, id) in ids.enumerated() {
                guard let location = index.location(of: id) else { throw RepositoryError.missing(object: "blob \(id) of \(file.path)") }
                group.addTask { (position, try await repository.readBlob(id, at: location)) }
            }
            var parts = [[UInt8]](repeating: [], count: ids.count)
            for try await (position, part) in group { parts[position] = part }
            return parts
        }
    }
}
