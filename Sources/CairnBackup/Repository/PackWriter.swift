import Foundation

/// Stores blobs in a repository: new blobs are sealed (several at once, on every core) and
/// appended to a pack held in memory (at most `RepositoryConfig.packBytes` plus a few blobs); a
/// full pack is written as one object while the next ones fill (two writes in flight), and its
/// entries are indexed once that write has finished, in an index file once enough have
/// gathered. A blob the repository already holds (by keyed id) is skipped. `finish()` writes
/// the last pack and index; until it returns, what was written is unreferenced data that a
/// later backup reuses and prune may remove. After a failure, `drain()` waits for the writes in
/// flight.
final class PackWriter {
    private let repository: Repository
    /// Blobs already stored, before this writer and by it.
    private(set) var index: BlobIndex
    private var pack: [UInt8] = []
    private var entries: [PackFormat.Entry] = []
    private var unindexed: [String: BlobLocation] = [:]
    /// Packs being written, oldest first, with their entries, indexed once written.
    private var inFlight: [(task: Task<String, Error>, bytes: Int, entries: [PackFormat.Entry])] = []
    /// Pack writes at once: a disk is kept busy (one write fsyncs while the next one copies).
    static let writesInFlight = 2
    /// Bytes and objects this writer added to the repository.
    private(set) var bytesWritten = 0
    private(set) var blobsWritten = 0
    /// The names of the index files this writer wrote.
    private(set) var indexFilesWritten: [String] = []

    /// Index entries per index file.
    static let entriesPerIndexFile = 20_000

    init(repository: Repository, index: BlobIndex) {
        self.repository = repository
        self.index = index
    }

    /// Stores `plaintext` as a blob unless the repository holds it; returns its id.
    @discardableResult
    func add(_ plaintext: [UInt8]) async throws -> String {
        try await add([plaintext])[0]
    }

    /// Stores each of `plaintexts` as a blob unless the repository holds it; returns their ids.
    /// The ids are computed, and new blobs sealed, in parallel.
    func add(_ plaintexts: [[UInt8]]) async throws -> [String] {
        let key = repository.key, known = index
        var prepared = [(id: String, sealed: [UInt8]?)](repeating: ("", nil), count: plaintexts.count)
        prepared.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let output = buffer
            DispatchQueue.concurrentPerform(iterations: plaintexts.count) { item in
                let id = plaintexts[item].withUnsafeBytes { key.id(of: $0) }
                output[item] = (id, known.contains(id) ? nil : SealedObject.seal(plaintexts[item], kind: "blob", key: key))
            }
        }
        for (item, (id, sealed)) in prepared.enumerated() {
            guard let sealed, !index.contains(id) else { continue }
            entries.append(PackFormat.Entry(id: id, offset: pack.count, length: sealed.count, plaintextLength: plaintexts[item].count))
            pack += sealed
            index.reserve(id)
            blobsWritten += 1
            if pack.count >= repository.config.packBytes { try await writePack() }
        }
        return prepared.map(\.id)
    }

    /// Writes the pack and the index entries still held.
    func finish() async throws {
        try await writePack()
        while !inFlight.isEmpty { try await settle() }
        try await writeIndex()
    }

    /// Waits for the pack writes in flight, ignoring their outcome (after a failure).
    func drain() async {
        for write in inFlight { _ = await write.task.result }
        inFlight = []
    }

    /// Starts writing the pack, once fewer than `writesInFlight` writes are going on.
    private func writePack() async throws {
        guard !entries.isEmpty else { return }
        pack += PackFormat.trailer(entries, key: repository.key)
        if inFlight.count >= Self.writesInFlight { try await settle() }
        let (backend, bytes) = (repository.backend, pack)
        // Named (SHA-256) and written while the next pack fills.
        inFlight.append((Task {
            let id = PackFormat.id(of: bytes)
            try await backend.put(PackFormat.objectName(id), bytes)
            return id
        }, bytes.count, entries))
        pack = []
        pack.reserveCapacity(repository.config.packBytes + FileParts.partsAtOnce * repository.config.partBytes)
        entries = []
    }

    /// Waits for the oldest pack write in flight and indexes its blobs.
    private func settle() async throws {
        guard !inFlight.isEmpty else { return }
        let (task, bytes, written) = inFlight.removeFirst()
        let id = try await task.value
        bytesWritten += bytes
        for entry in written {
            let location = BlobLocation(pack: id, offset: entry.offset, length: entry.length, plaintextLength: entry.plaintextLength)
            unindexed[entry.id] = location
            index.record(entry.id, at: location)
        }
        if unindexed.count >= Self.entriesPerIndexFile { try await writeIndex() }
    }

    private func writeIndex() async throws {
        guard !unindexed.isEmpty else { return }
        let file = try await repository.writeIndexFile(unindexed)
        bytesWritten += file.bytes
        indexFilesWritten.append(file.name)
        unindexed = [:]
    }
}

/// One index file, `index/<id>`: where the blobs of some packs are.
struct IndexFile: Codable {
    var blobs: [String: BlobLocation]
}

/// Every blob a repository holds and where: the union of its index files.
struct BlobIndex: Sendable {
    static let folder = "index/"
    private var locations: [String: BlobLocation] = [:]
    /// Blobs being packed, not yet written (so a second copy in one backup is skipped too).
    private var reserved: Set<String> = []

    init() {}

    /// Reads every index file of `repository`.
    static func load(_ repository: Repository) async throws -> BlobIndex {
        var index = BlobIndex()
        for (_, file) in try await files(of: repository) {
            for (id, location) in file.blobs { index.locations[id] = location }
        }
        return index
    }

    /// Every index file of `repository`, by object name.
    static func files(of repository: Repository) async throws -> [(name: String, file: IndexFile)] {
        var files: [(name: String, file: IndexFile)] = []
        for object in try await repository.backend.list(folder) {
            let plaintext = try SealedObject.open(try await repository.backend.get(object.name), kind: "index", key: repository.key, name: object.name)
            do { files.append((object.name, try JSONDecoder().decode(IndexFile.self, from: Data(plaintext)))) } catch {
                throw RepositoryError.damaged(object: object.name, reason: "the index does not decode: \(error)")
            }
        }
        return files
    }

    var count: Int { locations.count }

    /// Whether the blob is stored or being packed.
    func contains(_ id: String) -> Bool { locations[id] != nil || reserved.contains(id) }

    /// Where a stored blob is (nil while it is only being packed).
    func location(of id: String) -> BlobLocation? { locations[id] }

    /// Notes a blob being packed.
    mutating func reserve(_ id: String) { reserved.insert(id) }

    /// Notes where a packed blob was stored.
    mutating func record(_ id: String, at location: BlobLocation) {
        locations[id] = location
        reserved.remove(id)
    }
}

extension Repository {
    /// Writes an index file naming `blobs`; returns its name and size.
    @discardableResult
    func writeIndexFile(_ blobs: [String: BlobLocation]) async throws -> (name: String, bytes: Int) {
        let sealed = SealedObject.seal(try JSONEncoder.sorted.encode(IndexFile(blobs: blobs)).bytes, kind: "index", key: key)
        let name = BlobIndex.folder + PackFormat.id(of: sealed)
        try await backend.put(name, sealed)
        return (name, sealed.count)
    }

    /// The plaintext of blob `id`, checked against its id.
    func readBlob(_ id: String, at location: BlobLocation) async throws -> [UInt8] {
        let name = PackFormat.objectName(location.pack)
        let sealed = try await backend.get(name, range: location.offset..<(location.offset + location.length))
        let plaintext = try SealedObject.open(sealed, kind: "blob", key: key, name: "\(name) (blob \(id.prefix(12)))")
        guard plaintext.count == location.plaintextLength, plaintext.withUnsafeBytes({ key.id(of: $0) }) == id else {
            throw RepositoryError.damaged(object: name, reason: "blob \(id.prefix(12)) does not match its id")
        }
        return plaintext
    }
}
