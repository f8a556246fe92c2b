@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

/// Defects in how the engine used the file system, each found by reading the code.
@Suite("File operations that must not lose data")
struct FileOperationDefectTests {
    @Test("closing a database twice never closes a descriptor another database now uses")
    func closingTwice() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let schema = CollectionSchema(name: "c", dimensions: 2, metric: .l2)
        for round in 0..<5 {
            let first = try await Engine.open(at: directory.appending("first-\(round)"))
            await first.close()
            // The descriptors the first database freed are the lowest free ones: the second takes them.
            let second = try await Engine.open(at: directory.appending("second-\(round)"))
            await first.close()
            #expect(LocalFileSystem().isLocked(directory.appending("second-\(round)")), "the second database's lock is still held")
            try await second.createCollection(schema)
            try await second.put([NewObject(vector: [1, 2])], collection: "c")
            try await second.flush()
            try await second.put([NewObject(vector: [3, 4])], collection: "c")
            await second.close()
            let reopened = try await Engine.open(at: directory.appending("second-\(round)"))
            #expect(try reopened.count(collection: "c") == 2)
            await reopened.close()
        }
    }

    @Test("a directory that cannot be listed is an error, never an empty list")
    func listingFails() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let file = directory.appending("plain")
        try LocalFileSystem().writeNewFile(file, [1])
        #expect {
            _ = try LocalFileSystem().listDirectory(file)
        } throws: { error in
            guard case let CairnError.io(path, _, _, code) = error else { return false }
            return path == file && code == ENOTDIR
        }
        #expect(try LocalFileSystem().listDirectory(directory.appending("missing")) == [])
    }

    @Test("a new WAL file is created exclusively: an existing one is never truncated")
    func walCreatedExclusively() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            try await engine.createCollection(CollectionSchema(name: "c", dimensions: 2, metric: .l2))
            try await engine.put([NewObject(vector: [1, 2])], collection: "c")
            await engine.close()
        }
        let wal = directory.path + "/wal/" + WALFormat.fileName(1)
        let before = try LocalFileSystem().readFile(wal)
        #expect(throws: CairnError.self) { _ = try WALWriter(fs: LocalFileSystem(), directory: directory.path + "/wal", sequence: 1, validLength: nil) }
        #expect(try LocalFileSystem().readFile(wal) == before)
    }

    @Test("a change that cannot be encoded is refused before it gets an LSN; the log stays replayable")
    func unencodableChange() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        do {
            let engine = try await Engine.open(at: directory.path)
            await #expect(throws: CairnError.self) {
                try await engine.createCollection(CollectionSchema(name: "bad", dimensions: 2, ingestion: .object(["x": .double(.nan)])))
            }
            try await engine.createCollection(CollectionSchema(name: "good", dimensions: 2))
            await engine.close()
        }
        let engine = try await Engine.open(at: directory.path)
        #expect(engine.catalog.collections.keys.sorted() == ["good"])
        #expect(engine.stats().lastLSN == 1)
        await engine.close()
    }

    @Test("an I/O error keeps the system's error number")
    func errnoKept() throws {
        #expect {
            _ = try LocalFileSystem().readFile("/nonexistent/cairn")
        } throws: { error in
            guard case let CairnError.io(_, operation, _, code) = error else { return false }
            return operation == "open" && code == ENOENT
        }
    }
}

@Suite("Storage-snapshot window")
struct StorageSnapshotHoldTests {
    /// The engine a step hook looks at (set once it is open).
    final class Probe: @unchecked Sendable {
        var engine: Engine?
        var heldWhenManifestRead: Bool?
    }

    @Test("the deletion hold is taken before the window reads the manifest its label lists")
    func holdBeforeManifest() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let probe = Probe()
        var options = EngineOptions()
        options.reachedStep = { name in
            if name == "storage-snapshot-manifest-read" { probe.heldWhenManifestRead = probe.engine?.deletions.isHolding }
        }
        let engine = try await Engine.open(at: directory.path, options: options)
        probe.engine = engine
        try await engine.createCollection(CollectionSchema(name: "c", dimensions: 2, metric: .l2))
        try await engine.put([NewObject(vector: [1, 2])], collection: "c")
        _ = try await engine.beginStorageSnapshot(label: "lvm")
        #expect(probe.heldWhenManifestRead == true)
        _ = try await engine.endStorageSnapshot()
        await engine.close()
    }
}

@Suite("Path arithmetic")
struct FilePathsTests {
    @Test("the parent of a path, bare names and the root included (Foundation's traps on a bare name on Linux)")
    func parents() {
        let cases: [(String, String)] = [("d", "."), (".", "."), ("./d", "."), ("a/b", "a"), ("a/b/", "a"), ("/a", "/"), ("/", "/"),
                                         ("/a/b//c", "/a/b"), ("a//b", "a")]
        for (path, parent) in cases { #expect(FilePaths.parent(of: path) == parent, "parent of \(path)") }
        #expect(FilePaths.name(of: "a/b/c.seg") == "c.seg" && FilePaths.name(of: "c") == "c")
    }
}
