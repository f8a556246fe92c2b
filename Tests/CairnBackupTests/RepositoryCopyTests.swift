@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Repository copy")
struct RepositoryCopyTests {
    @Test("backups copied into a repository with other keys restore and prove themselves there; a second copy stores only what is new")
    func copyRestoresElsewhere() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var generator = SeededGenerator(seed: 81)
        let engine = try await Engine.open(at: directory.appending("db"))
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 8, metric: .l2))
        try await engine.put((0..<2000).map { _ in NewObject(vector: generator.vector(8)) }, collection: "c")
        try await engine.flush()
        let source = try await PruneTests.repository(in: directory)
        let first = try await source.backup(engine, engineVersion: "test")
        let destination = try await Repository.initialize(LocalBackend(root: directory.appending("offsite")), credential: .password("other"),
                                                          scryptLogN: RepositoryKeyTests.testCost)
        let copied = try await source.copy(to: destination)
        #expect(copied.copied == [first.id] && copied.blobsCopied > 0)
        let sourceNames = Set(try await source.backend.list("data/").map(\.name))
        #expect(Set(try await destination.backend.list("data/").map(\.name)).isDisjoint(with: sourceNames), "sealed and named with the destination's key")

        try await engine.put((0..<20).map { _ in NewObject(vector: generator.vector(8)) }, collection: "c")
        let second = try await source.backup(engine, engineVersion: "test")
        let again = try await source.copy(to: destination)
        #expect(again.copied == [second.id] && again.alreadyThere == [first.id])
        #expect(again.bytesAdded * 4 < copied.bytesAdded, "the unchanged segment is not stored twice (\(again.bytesAdded) after \(copied.bytesAdded))")
        #expect(try await destination.check(readData: true).problems.isEmpty)
        for backup in [first, second] {
            let report = try await destination.restore(backup.id, to: directory.appending("restored-\(backup.id)"))
            #expect(report.objectsVerified == backup.summary[0].objects && report.fingerprintsVerified == 1)
        }
        await engine.close()
    }
}
