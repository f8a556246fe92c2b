@testable import CairnBackup
import CairnTestSupport
import CairnEngine
import Foundation
import Testing

@Suite("Packs and the blob index")
struct PackTests {
    @Test("blobs go into packs and an index; each reads back checked against its id; a repeated blob is stored once")
    func packsRoundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        var repository = try await Repository.initialize(backend, credential: .password("pw"), scryptLogN: RepositoryKeyTests.testCost)
        repository = try await Repository.open(backend, credential: .password("pw"))
        var generator = SeededGenerator(seed: 2)
        let blobs = (0..<300).map { index in (0..<(1000 + index * 97)).map { _ in UInt8(truncatingIfNeeded: generator.next() % 16) } }
        let writer = PackWriter(repository: repository, index: BlobIndex())
        var ids: [String] = []
        for blob in blobs + blobs.prefix(50) { ids.append(try await writer.add(blob)) }
        try await writer.finish()
        #expect(writer.blobsWritten == 300, "the 50 repeats were skipped")
        #expect(Array(ids.suffix(50)) == Array(ids.prefix(50)))

        let index = try await BlobIndex.load(repository)
        #expect(index.count == 300)
        for (position, blob) in blobs.enumerated() where position % 13 == 0 {
            let location = try #require(index.location(of: ids[position]))
            #expect(try await repository.readBlob(ids[position], at: location) == blob)
        }
        let packs = try await backend.list("data/")
        #expect(!packs.isEmpty)
        for pack in packs {
            let bytes = try await backend.get(pack.name)
            #expect(PackFormat.objectName(PackFormat.id(of: bytes)) == pack.name, "a pack is named by the hash of its bytes")
            let entries = try PackFormat.entries(ofPack: bytes, key: repository.key, name: pack.name)
            #expect(entries.allSatisfy { index.location(of: $0.id)?.pack == PackFormat.id(of: bytes) })
        }
    }

    @Test("a blob altered in its pack is reported with the pack's name")
    func damagedBlob() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        let repository = try await Repository.initialize(backend, credential: .password("pw"), scryptLogN: RepositoryKeyTests.testCost)
        let writer = PackWriter(repository: repository, index: BlobIndex())
        let id = try await writer.add(Array("some plaintext".utf8))
        try await writer.finish()
        let location = try #require(try await BlobIndex.load(repository).location(of: id))
        let path = directory.appending("repo/" + PackFormat.objectName(location.pack))
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[location.offset + 15] ^= 0x40
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        await #expect {
            _ = try await repository.readBlob(id, at: location)
        } throws: { error in
            guard case let RepositoryError.damaged(object, _) = error else { return false }
            return object.contains(location.pack)
        }
    }
}

@Suite("Files stored in parts")
struct FilePartsTests {
    @Test("a file goes in as parts and comes back byte for byte; a second copy adds no blob")
    func roundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let fs = LocalFileSystem()
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        var generator = SeededGenerator(seed: 4)
        let content = (0..<250_000).map { _ in UInt8(truncatingIfNeeded: generator.next() % 7) }
        try fs.writeNewFile(directory.appending("source.seg"), content)
        let writer = PackWriter(repository: repository, index: BlobIndex())
        let stored = try await FileParts.store(directory.appending("source.seg"), as: "segments/c/_default/x.seg", fs: fs,
                                               writer: writer, partBytes: 100_000)
        let again = try await FileParts.store(directory.appending("source.seg"), as: "copy.seg", fs: fs, writer: writer, partBytes: 100_000)
        try await writer.finish()
        #expect(stored.blobs.count == 3 && stored.size == 250_000 && stored.crc32c == CRC32C.checksum(content))
        #expect(again.blobs == stored.blobs && writer.blobsWritten == 3)

        let index = try await BlobIndex.load(repository)
        try await FileParts.restore(stored, to: directory.appending("restored.seg"), fs: fs, repository: repository, index: index)
        #expect(try fs.readFile(directory.appending("restored.seg")) == content)

        var wrong = stored
        wrong.crc32c ^= 1
        await #expect(throws: RepositoryError.self) {
            try await FileParts.restore(wrong, to: directory.appending("wrong.seg"), fs: fs, repository: repository, index: index)
        }
        var missing = stored
        missing.blobs[1] = String(repeating: "0", count: 64)
        await #expect(throws: RepositoryError.missing(object: "blob \(missing.blobs[1]) of segments/c/_default/x.seg")) {
            try await FileParts.restore(missing, to: directory.appending("missing.seg"), fs: fs, repository: repository, index: index)
        }
    }
}
