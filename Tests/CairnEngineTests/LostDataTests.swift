@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

/// Ways a database could lose acknowledged data or stop opening through a damaged or incomplete
/// directory: each is refused, naming the file, and nothing is deleted.
@Suite("Missing and damaged files")
struct LostDataTests {
    let schema = CollectionSchema(name: "docs", dimensions: 4, metric: .l2)

    private func objects(_ count: Int, seed: UInt64) -> [NewObject] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in NewObject(id: generator.uuid(), vector: generator.vector(4)) }
    }

    /// Every file under `directory` (relative paths), with its size.
    private func listing(_ directory: String) -> [String: Int] {
        var files: [String: Int] = [:]
        let walker = FileManager.default.enumerator(atPath: directory)!
        while let name = walker.nextObject() as? String {
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: directory + "/" + name, isDirectory: &isDirectory)
            if !isDirectory.boolValue && name != "LOCK" { files[name] = (try? LocalFileSystem().fileSize(directory + "/" + name)) ?? -1 }
        }
        return files
    }

    /// A database with a flushed segment and 50 objects in the WAL after the checkpoint.
    private func populate(_ directory: String) async throws -> Int {
        let engine = try await Engine.open(at: directory)
        try await engine.createCollection(schema)
        try await engine.put(objects(200, seed: 1), collection: "docs")
        try await engine.flush()
        try await engine.put(objects(50, seed: 2), collection: "docs")
        let count = try engine.count(collection: "docs")
        await engine.close()
        return count
    }

    /// Strips the "closed" record a clean close leaves, as if the process had been killed.
    private func simulateCrash(_ wal: String) throws {
        let size = try LocalFileSystem().fileSize(wal)
        #expect(truncate(wal, off_t(size - WALFormat.controlRecord(.closed(lastLSN: 0)).count)) == 0)
    }

    @Test("a directory that lost CURRENT is refused, nothing is deleted, and the candidate manifest can be made current")
    func missingCurrent() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let count = try await populate(directory.path)
        try LocalFileSystem().remove(directory.path + "/CURRENT")
        let before = listing(directory.path)
        await #expect {
            try await Engine.open(at: directory.path)
        } throws: { error in
            guard case let CairnError.currentMissing(path, contents, candidate) = error else { return false }
            return path == directory.path && candidate == "000002.json" && contents.contains("1 segment file")
        }
        #expect(listing(directory.path) == before)
        #expect(!(await Engine.verify(at: directory.path)).isConsistent)
        // A manifest that does not exist, or is not a manifest name, changes nothing.
        await #expect(throws: CairnError.self) { try await Engine.repairCurrent(at: directory.path, manifest: "../CURRENT") }
        _ = try await Engine.repairCurrent(at: directory.path, manifest: "000002.json")
        let engine = try await Engine.open(at: directory.path)
        #expect(try engine.count(collection: "docs") == count)
        await engine.close()
        // With CURRENT intact there is nothing to repair.
        await #expect(throws: CairnError.self) { try await Engine.repairCurrent(at: directory.path, manifest: "000002.json") }
    }

    @Test("an interrupted initialisation (an empty WAL file and an empty manifest) opens as a new database")
    func interruptedInitialisation() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let engine = try await Engine.open(at: directory.path)
        await engine.close()
        try LocalFileSystem().remove(directory.path + "/CURRENT")
        let again = try await Engine.open(at: directory.path)
        #expect(again.catalog.collections.isEmpty)
        await again.close()
    }

    @Test("read-only tools refuse a directory that is not a database instead of creating one")
    func notADatabase() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.createIfMissing = false
        let missing = directory.appending("typo")
        await #expect(throws: CairnError.notADatabase(path: missing)) { try await Engine.open(at: missing, options: options) }
        #expect(!LocalFileSystem().exists(missing))
    }

    @Test("a new database is never created inside another's data directory")
    func nestedDatabase() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try await populate(directory.path)
        for inner in ["/segments/docs/_default/x", "/snapshots/new", "/inner"] {
            await #expect(throws: CairnError.self) { try await Engine.open(at: directory.path + inner) }
        }
    }

    @Test("a missing WAL file after the checkpoint is refused by open and verify, naming it")
    func missingFirstWALFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try await populate(directory.path)
        let manifest = try ManifestStore(fs: LocalFileSystem(), directory: directory.path).loadCurrent()
        let wal = directory.path + "/wal/" + WALFormat.fileName(manifest.walStartSequence)
        try LocalFileSystem().remove(wal)
        let before = listing(directory.path)
        await #expect {
            try await Engine.open(at: directory.path)
        } throws: { error in
            guard case let CairnError.corruption(file, _, _) = error else { return false }
            return file == wal
        }
        let report = await Engine.verify(at: directory.path)
        #expect(report.problems.map(\.file) == [wal])
        #expect(listing(directory.path) == before)
    }

    @Test("a deleted newest WAL file is noticed: the sealed file before it names it")
    func missingNewestWALFile() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            try await engine.put(objects(30, seed: 1), collection: "docs")
            _ = try await engine.createSnapshot() // seals the WAL file without a checkpoint
            try await engine.put(objects(30, seed: 2), collection: "docs")
            await engine.close()
        }
        let manifest = try ManifestStore(fs: LocalFileSystem(), directory: directory.path).loadCurrent()
        let newest = directory.path + "/wal/" + WALFormat.fileName(manifest.walStartSequence + 1)
        #expect(LocalFileSystem().exists(newest))
        try LocalFileSystem().remove(newest)
        await #expect {
            try await Engine.open(at: directory.path)
        } throws: { error in
            guard case let CairnError.corruption(file, _, detail) = error else { return false }
            return file == newest && detail.contains("sealed")
        }
        #expect(await Engine.verify(at: directory.path).problems.map(\.file) == [newest])
    }

    @Test("after a clean close, any damaged record is corruption: refused, named, and left in place", arguments: [0, 7, 25, 100])
    func damagedLastRecordAfterCleanClose(position: Int) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            try await engine.put(objects(300, seed: 3), collection: "docs") // one batch: one record
            await engine.close()
        }
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        var bytes = try LocalFileSystem().readFile(wal)
        let closeRecord = WALFormat.controlRecord(.closed(lastLSN: 0)).count
        // Bytes counted back from the start of the "closed" record: inside the batch's record.
        let index = bytes.count - closeRecord - 1 - position
        bytes[index] ^= 0x10
        try LocalFileSystem().writeNewFile(wal, bytes, exclusive: false)
        await #expect(throws: CairnError.self) { try await Engine.open(at: directory.path) }
        #expect(try LocalFileSystem().readFile(wal) == bytes)
        let report = await Engine.verify(at: directory.path)
        #expect(!report.isConsistent)
        #expect(report.problems.first?.file == wal)
    }

    @Test("after a crash, a torn tail is moved aside, reported by verify, and the log continues")
    func tornTailMovedAside() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let all = objects(20, seed: 4)
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(schema)
            for object in all { try await engine.put([object], collection: "docs") }
            await engine.close()
        }
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        try simulateCrash(wal)
        let size = try LocalFileSystem().fileSize(wal)
        let original = try LocalFileSystem().readFile(wal)
        #expect(truncate(wal, off_t(size - 5)) == 0)
        let report = await Engine.verify(at: directory.path)
        #expect(report.isConsistent)
        #expect(report.warnings.count == 1)
        #expect(report.warnings.first?.detail.contains("1 records with an intact header") == true)
        let engine = try await Engine.open(at: directory.path)
        #expect(try engine.count(collection: "docs") == 19)
        await engine.close()
        let kept = try LocalFileSystem().listDirectory(directory.path + "/wal").filter { $0.hasPrefix(TornTailArchive.prefix) }
        #expect(kept.count == 1)
        let keptBytes = try LocalFileSystem().readFile(directory.path + "/wal/" + kept[0])
        #expect(Array(original[(original.count - 5 - keptBytes.count)..<(original.count - 5)]) == keptBytes)
        #expect(await Engine.verify(at: directory.path).warnings.isEmpty)
    }

    @Test("opening deletes only files Cairn named itself: foreign files in the data directory stay")
    func foreignFilesSurvive() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        _ = try await populate(directory.path)
        let foreign = [directory.path + "/segments/docs/_default/notes.txt", directory.path + "/segments/docs/keep/me/data.bin",
                       directory.path + "/manifests/README", directory.path + "/wal/copy.log.bak"]
        for path in foreign {
            try LocalFileSystem().createDirectory((path as NSString).deletingLastPathComponent)
            try LocalFileSystem().writeNewFile(path, [1, 2, 3])
        }
        let engine = try await Engine.open(at: directory.path)
        try await engine.put(objects(10, seed: 5), collection: "docs")
        try await engine.flush()
        await engine.close()
        await (try await Engine.open(at: directory.path)).close()
        for path in foreign { #expect(LocalFileSystem().exists(path), "\(path)") }
    }
}
