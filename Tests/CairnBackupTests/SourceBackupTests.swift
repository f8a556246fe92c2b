@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Source files in backups, content-defined chunking")
struct SourceBackupTests {
    /// `count` seeded random bytes.
    private static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for index in words.indices { words[index] = generator.next() }
        }
        return bytes
    }

    @Test("chunks stay between minimum and maximum, average near 1 MiB, and a 1 KB insertion near the start of 50 MB changes at most 3")
    func chunkerProperties() {
        let chunker = ContentDefinedChunker(seed: Array(repeating: 7, count: 32))
        let original = Self.randomBytes(50 << 20, seed: 5)
        let before = chunker.chunks(of: original)
        #expect(before.map(\.count).reduce(0, +) == original.count)
        #expect(before.dropLast().allSatisfy { (chunker.minimum...chunker.maximum).contains($0.count) })
        let average = Double(original.count) / Double(before.count)
        #expect((600_000.0...1_800_000.0).contains(average), "average chunk \(average) bytes")
        #expect(chunker.chunks(of: original).map(\.count) == before.map(\.count), "the same bytes, the same cuts")

        var edited = original
        edited.insert(contentsOf: Self.randomBytes(1024, seed: 6), at: 300_000)
        let known = Set(before.map { Array($0) })
        let new = chunker.chunks(of: edited).filter { !known.contains(Array($0)) }
        #expect((1...3).contains(new.count), "\(new.count) chunks differ")
        let otherKey = ContentDefinedChunker(seed: Array(repeating: 8, count: 32))
        #expect(otherKey.chunks(of: original).map(\.count) != before.map(\.count), "the cuts depend on the key")
    }

    @Test("declared sources are backed up and restored byte for byte under sources/<collection>/; unchanged files are not read again; an edit stores only changed chunks")
    func sourcesRoundTrip() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let corpus = directory.appending("corpus")
        try FileManager.default.createDirectory(atPath: corpus + "/deep/er", withIntermediateDirectories: true)
        let files: [String: [UInt8]] = [
            "corpus/a.txt": Array("first document\n".utf8),
            "corpus/deep/er/b.bin": Self.randomBytes(3 << 20, seed: 9),
            "corpus/empty": [],
        ]
        for (path, bytes) in files { FileManager.default.createFile(atPath: directory.appending(path), contents: Data(bytes)) }
        let big = directory.appending("big.bin")
        let bigBytes = Self.randomBytes(50 << 20, seed: 10)
        FileManager.default.createFile(atPath: big, contents: Data(bigBytes))
        let missing = directory.appending("not-there")

        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "articles", dimensions: 2, metric: .l2, sources: [corpus, big, missing]))
        try await engine.createCollection(CollectionSchema(name: "other", dimensions: 2, metric: .l2))
        try await engine.put([NewObject(vector: [1, 2])], collection: "articles")
        let repository = try await Repository.initialize(LocalBackend(root: directory.appending("repo")), credential: .password("pw"),
                                                         scryptLogN: RepositoryKeyTests.testCost)
        let first = try await repository.backup(engine, engineVersion: "test")
        #expect(first.statistics.sourceFiles == 4 && first.statistics.sourceBytes == (3 << 20) + (50 << 20) + 15)
        #expect(first.sourceProblems == [SourceProblem(collection: "articles", source: missing, reason: "it does not exist")])

        let restored = directory.appending("restored")
        let report = try await repository.restore(first.id, to: restored)
        #expect(report.sourceFiles == 4)
        for (path, bytes) in files {
            #expect(FileManager.default.contents(atPath: restored + "/sources/articles/" + path) == Data(bytes), "\(path)")
        }
        #expect(FileManager.default.contents(atPath: restored + "/sources/articles/big.bin") == Data(bigBytes))

        let second = try await repository.backup(engine, engineVersion: "test")
        #expect(second.statistics.sourceFilesReused == 4, "same size and mtime: not read again")
        #expect(second.statistics.bytesAdded < 1 << 16)

        var edited = bigBytes
        edited.insert(contentsOf: Self.randomBytes(1024, seed: 11), at: 200_000)
        FileManager.default.createFile(atPath: big, contents: Data(edited))
        let third = try await repository.backup(engine, engineVersion: "test")
        #expect(third.statistics.sourceFilesReused == 3)
        let blobsBefore = try await repository.loadBackup(second.id).sources!.first { $0.originalPath == big }!.file.blobs
        let blobsAfter = try await repository.loadBackup(third.id).sources!.first { $0.originalPath == big }!.file.blobs
        let newBlobs = Set(blobsAfter).subtracting(blobsBefore)
        #expect((1...3).contains(newBlobs.count), "\(newBlobs.count) new chunks of \(blobsAfter.count)")
        #expect(third.statistics.bytesAdded < 13 << 20, "at most 3 chunks (≤ 4 MiB each) stored: \(third.statistics.bytesAdded)")
        await engine.close()

        // A renamed collection brings its sources under its new name; another collection none.
        let renamed = try await repository.restore(third.id, to: directory.appending("renamed"),
                                                   scope: PartitionScope(collections: ["articles"], collectionRenames: ["articles": "v2"]))
        #expect(renamed.sourceFiles == 4)
        #expect(FileManager.default.contents(atPath: directory.appending("renamed/sources/v2/big.bin")) == Data(edited))
        let other = try await repository.restore(third.id, to: directory.appending("other"), scope: PartitionScope(collections: ["other"]))
        #expect(other.sourceFiles == 0 && !FileManager.default.fileExists(atPath: directory.appending("other/sources")))
    }
}
