import CairnEngine
import Crypto
import Foundation

/// One file of a collection's declared sources in a backup: where it was, where a restore
/// puts it (`file.path`, `sources/<collection>/…`), its size, modification time, SHA-256, and
/// the content-defined chunks that hold it.
struct BackedUpSource: Codable, Sendable, Hashable {
    var collection: String
    /// The declared source path (file or directory) it was found under.
    var source: String
    /// Its absolute path when it was backed up.
    var originalPath: String
    var file: BackedUpFile
    /// ns since the epoch.
    var modifiedNanoseconds: Int64
    var sha256: String
}

/// A declared source path a backup could not store, and why (it is not a silent skip).
public struct SourceProblem: Codable, Sendable, Hashable, CustomStringConvertible {
    public var collection: String
    public var source: String
    public var reason: String

    public var description: String { "source \(source) of \(collection): \(reason)" }
}

/// The regular files under collections' declared sources, found before a backup stores them.
struct SourceInventory {
    struct Entry {
        var collection: String
        var source: String
        var absolutePath: String
        /// Relative to the restore target: `sources/<collection>/<top>/<path inside>`.
        var relativePath: String
        var size: Int
        var modifiedNanoseconds: Int64
    }

    var entries: [Entry] = []
    var problems: [SourceProblem] = []

    /// Walks the sources of every collection in `catalog`. A directory source keeps its name as
    /// the top folder (`corpus/a.txt`), a file source its file name; two with the same name get
    /// `-2`, `-3`. Symbolic links are followed to files, never into directories (no loops);
    /// other special files are reported as problems.
    init(catalog: Catalog) {
        for schema in catalog.collections.values.sorted(by: { $0.name < $1.name }) {
            var tops = Set<String>()
            for source in schema.sources ?? [] {
                let base = source == "/" ? "root" : String(source.split(separator: "/").last ?? "root")
                var top = base, suffix = 2
                while !tops.insert(top).inserted {
                    top = "\(base)-\(suffix)"
                    suffix += 1
                }
                walk(source, relative: "sources/\(schema.name)/\(top)", collection: schema.name, source: source)
            }
        }
    }

    private mutating func walk(_ path: String, relative: String, collection: String, source: String) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno == ENOENT ? "it does not exist" : String(cString: strerror(errno))
            problems.append(SourceProblem(collection: collection, source: source, reason: path == source ? reason : "\(path): \(reason)"))
            return
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            entries.append(Entry(collection: collection, source: source, absolutePath: path, relativePath: relative, size: Int(info.st_size),
                                 modifiedNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)))
        case S_IFDIR:
            var link = stat()
            if path != source, lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK {
                problems.append(SourceProblem(collection: collection, source: source, reason: "\(path) links to a directory: not followed"))
                return
            }
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
                problems.append(SourceProblem(collection: collection, source: source, reason: "\(path) cannot be listed: \(error.localizedDescription)"))
                return
            }
            for name in names.sorted() { walk(path + "/" + name, relative: relative + "/" + name, collection: collection, source: source) }
        default:
            problems.append(SourceProblem(collection: collection, source: source, reason: "\(path) is not a regular file or directory"))
        }
    }
}

enum SourceFiles {
    /// Bytes read from a source file at a time.
    static let readBytes = 8 << 20

    /// Stores the source file `entry` in content-defined chunks, each a blob (chunks the
    /// repository holds are not stored again), reading it once for the chunks, its CRC32C and
    /// its SHA-256.
    static func store(_ entry: SourceInventory.Entry, chunker: ContentDefinedChunker, writer: PackWriter,
                      progress: ProgressCounter) async throws -> BackedUpSource {
        let fs = LocalFileSystem()
        var hasher = SHA256()
        var crc: UInt32 = 0
        var blobs: [String] = []
        var pending: [UInt8] = []
        var consumed = 0, read = 0
        var atEnd = false
        while true {
            if !atEnd && pending.count - consumed < chunker.maximum {
                pending.removeFirst(consumed)
                consumed = 0
                let part = try fs.readFile(entry.absolutePath, range: read..<(read + readBytes))
                read += part.count
                atEnd = part.count < readBytes
                part.withUnsafeBytes { bytes in
                    hasher.update(bufferPointer: bytes)
                    crc = CRC32C.checksum(bytes, extending: crc)
                }
                pending += part
                continue
            }
            var chunks: [[UInt8]] = []
            while chunks.count < FileParts.partsAtOnce, consumed < pending.count, atEnd || pending.count - consumed >= chunker.maximum {
                let length = pending.withUnsafeBytes { chunker.chunkLength(UnsafeRawBufferPointer(rebasing: $0[consumed...])) }
                chunks.append(Array(pending[consumed..<(consumed + length)]))
                consumed += length
            }
            if chunks.isEmpty {
                if atEnd { break }
                continue
            }
            blobs += try await writer.add(chunks)
            progress.advance(bytes: chunks.reduce(0) { $0 + $1.count })
        }
        progress.advance(bytes: 0, fileDone: true)
        return BackedUpSource(collection: entry.collection, source: entry.source, originalPath: entry.absolutePath,
                              file: BackedUpFile(path: entry.relativePath, size: read, crc32c: crc, blobs: blobs),
                              modifiedNanoseconds: entry.modifiedNanoseconds, sha256: Hex.encode(hasher.finalize()))
    }
}
