import Foundation

/// The description of a database at its checkpoint: the catalog as of `checkpointLSN`, every
/// live segment with its size and checksum, and the first WAL file recovery must read.
///
/// Stored as `manifests/<sequence>.json`: a JSON document, a newline, then `CRC32C <8 hex digits>`
/// of the JSON bytes. Manifests are immutable; `CURRENT` names the live one.
package struct Manifest: Codable, Sendable, Equatable {
    package static let formatVersion = 1

    package var formatVersion = Manifest.formatVersion
    /// A random id given to the database when it is created.
    package var databaseID: String
    package var sequence: Int
    /// Every mutation up to this LSN is in the catalog below or in the segments.
    package var checkpointLSN: UInt64
    /// The first WAL file that may hold records after the checkpoint.
    package var walStartSequence: Int
    /// WAL files brought back by a rollback, replayed (in this order) before the numbered files
    /// from `walStartSequence`. Their names never parse as sequence numbers, so a database that
    /// does not list them ignores them. The next checkpoint makes them unnecessary.
    package var restoredWAL: [String]?
    /// The LSNs of tenant attachments after the checkpoint (restores into the live database)
    /// whose segments this manifest already lists, so replaying their records adds nothing.
    package var attachedAfterCheckpoint: [UInt64]?
    package var catalog: Catalog
    package var segments: [SegmentRecord]
    /// When the manifest was written (ms since the epoch).
    package var writtenAt: Int64

    /// One segment file of the manifest, named by a unique id and referenced with its size and checksum.
    package struct SegmentRecord: Codable, Sendable, Equatable {
        package var id: String
        package var partition: PartitionKey
        package var incarnation: PartitionIncarnation
        package var rows: Int
        package var tombstones: Int
        package var bytes: Int
        /// CRC32C of the whole file.
        package var crc32c: UInt32
        /// The content fingerprint of its rows (nil for segments written before it was kept).
        package var fingerprint: ContentFingerprint? = nil

        /// The path of the file, relative to the data directory.
        package var relativePath: String { "segments/\(partition.collection)/\(partition.tenant)/\(id).seg" }
    }

    private static let names = NumberedFileName(suffix: ".json")

    /// The file name of manifest number `sequence`.
    static func fileName(_ sequence: Int) -> String { names.name(sequence) }

    /// The sequence number in a manifest file name, or nil for other files.
    static func sequence(of fileName: String) -> Int? { names.number(in: fileName) }

    /// Whether this manifest describes a database that holds nothing (a new one).
    package var isEmptyDatabase: Bool { checkpointLSN == 0 && segments.isEmpty && catalog == Catalog() }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        var bytes = [UInt8](try encoder.encode(self))
        let crc = String(CRC32C.checksum(bytes), radix: 16)
        bytes.append(contentsOf: Array("\nCRC32C \(String(repeating: "0", count: 8 - crc.count))\(crc)\n".utf8))
        return bytes
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> Manifest {
        let trailerLength = 17 // "\nCRC32C " + 8 hex + "\n"
        guard bytes.count > trailerLength,
              String(decoding: bytes[(bytes.count - trailerLength)..<(bytes.count - 9)], as: UTF8.self) == "\nCRC32C ",
              let stored = UInt32(String(decoding: bytes[(bytes.count - 9)..<(bytes.count - 1)], as: UTF8.self), radix: 16) else {
            throw CairnError.corruption(file: path, offset: max(0, bytes.count - trailerLength), detail: "manifest checksum line is missing")
        }
        let body = Array(bytes[0..<(bytes.count - trailerLength)])
        guard CRC32C.checksum(body) == stored else {
            throw CairnError.corruption(file: path, offset: 0, detail: "manifest fails its checksum")
        }
        do {
            let manifest = try JSONDecoder().decode(Manifest.self, from: Data(body))
            guard manifest.formatVersion == formatVersion else {
                throw CairnError.corruption(file: path, offset: 0, detail: "unsupported manifest format \(manifest.formatVersion)")
            }
            return manifest
        } catch let error as CairnError {
            throw error
        } catch {
            throw CairnError.corruption(file: path, offset: 0, detail: "manifest is not valid: \(error)")
        }
    }
}

/// Reads and publishes manifests in a data directory.
struct ManifestStore: Sendable {
    let fs: any FileSystem
    let directory: String

    var currentPath: String { directory + "/CURRENT" }
    var manifestsDirectory: String { directory + "/manifests" }

    /// Writes `manifest` as a new immutable file, then switches `CURRENT` to it atomically.
    func publish(_ manifest: Manifest) throws {
        let name = Manifest.fileName(manifest.sequence)
        let path = manifestsDirectory + "/" + name
        try? fs.remove(path) // a leftover of a crash before CURRENT switched; never the live one
        try fs.writeNewFile(path, try manifest.encoded())
        try fs.syncDirectory(manifestsDirectory)
        try fs.atomicReplace(currentPath, with: Array("manifests/\(name)\n".utf8))
    }

    /// The name of the live manifest file, from `CURRENT`.
    func currentName() throws -> String {
        let text = String(decoding: try fs.readFile(currentPath), as: UTF8.self)
        guard text.hasPrefix("manifests/"), text.hasSuffix("\n") else {
            throw CairnError.corruption(file: currentPath, offset: 0, detail: "CURRENT does not name a manifest")
        }
        return String(text.dropFirst("manifests/".count).dropLast())
    }

    func loadCurrent() throws -> Manifest {
        let path = manifestsDirectory + "/" + (try currentName())
        guard fs.exists(path) else {
            throw CairnError.corruption(file: path, offset: 0, detail: "the manifest named by CURRENT is missing")
        }
        return try Manifest.decode(try fs.readFile(path), path: path)
    }
}
