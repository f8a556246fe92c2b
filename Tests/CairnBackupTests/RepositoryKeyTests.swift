@testable import CairnBackup
import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Repository keys and sealed objects")
struct RepositoryKeyTests {
    /// Cheap scrypt for tests (N = 2^10); the default is 2^15.
    static let testCost = 10

    private func makeRepository(_ backend: any RepositoryBackend, _ credential: RepositoryCredential = .password("correct horse")) async throws -> Repository {
        try await Repository.initialize(backend, credential: credential, scryptLogN: Self.testCost)
    }

    @Test("a sealed object opens to its plaintext; compressible data is compressed, random data stored as is")
    func sealRoundTrip() throws {
        let key = MasterKey.random()
        var generator = SeededGenerator(seed: 1)
        let repetitive = [UInt8](repeating: 7, count: 100_000)
        let random = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        for plaintext in [repetitive, random, []] {
            let sealed = SealedObject.seal(plaintext, kind: "blob", key: key)
            #expect(try SealedObject.open(sealed, kind: "blob", key: key, name: "x") == plaintext)
        }
        #expect(SealedObject.seal(repetitive, kind: "blob", key: key).count < 1000, "zstd shrinks a repetitive object")
        #expect(SealedObject.seal(random, kind: "blob", key: key).count == random.count + SealedObject.overhead, "random bytes are stored")
    }

    @Test("a flipped bit, a truncation, another key or another kind: the object is reported damaged by name")
    func tamperedObjects() throws {
        let key = MasterKey.random()
        let sealed = SealedObject.seal(Array("the plaintext".utf8), kind: "blob", key: key)
        var flipped = sealed
        flipped[20] ^= 1
        let cases: [([UInt8], String, MasterKey)] = [(flipped, "blob", key), (Array(sealed.dropLast(3)), "blob", key),
                                                     (sealed, "blob", MasterKey.random()), (sealed, "backup", key), ([1, 2], "blob", key)]
        for (bytes, kind, opener) in cases {
            #expect {
                _ = try SealedObject.open(bytes, kind: kind, key: opener, name: "data/ab/abcd")
            } throws: { error in
                guard case let RepositoryError.damaged(object, _) = error else { return false }
                return object == "data/ab/abcd"
            }
        }
    }

    @Test("blob ids are keyed: the same plaintext has another id in another repository")
    func keyedIDs() {
        let plaintext: [UInt8] = Array("same content".utf8)
        let first = MasterKey.random(), second = MasterKey.random()
        let id = plaintext.withUnsafeBytes { first.id(of: $0) }
        #expect(id.count == 64 && id == plaintext.withUnsafeBytes { first.id(of: $0) })
        #expect(id != plaintext.withUnsafeBytes { second.id(of: $0) })
        #expect(Hex.decode(id).map(Hex.encode) == id)
    }

    @Test("init then open with the password or a key file; the master key survives the trip")
    func initAndOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        let created = try await makeRepository(backend)
        let opened = try await Repository.open(backend, credential: .password("correct horse"))
        #expect(opened.id == created.id && opened.key.bytes == created.key.bytes && opened.config == created.config)
        #expect(try await backend.list("").map(\.name).filter { !$0.hasPrefix("keys/") } == ["config"])

        let keyFile = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let fileBackend = LocalBackend(root: directory.appending("repo-keyfile"))
        let withFile = try await makeRepository(fileBackend, .keyFile(keyFile))
        #expect(try await Repository.open(fileBackend, credential: .keyFile(keyFile)).id == withFile.id)
    }

    @Test("a wrong password or key file is a clear error and writes nothing")
    func wrongKey() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        _ = try await makeRepository(backend)
        let before = try await backend.list("")
        for credential: RepositoryCredential in [.password("wrong"), .password("correct horse "), .keyFile(Array(repeating: 1, count: 32))] {
            await #expect(throws: RepositoryError.wrongKey(repository: backend.location)) {
                _ = try await Repository.open(backend, credential: credential)
            }
        }
        #expect(try await backend.list("") == before)
        #expect(RepositoryError.wrongKey(repository: "/r").description.contains("nothing was changed"))
    }

    @Test("init refuses a place that holds anything; open refuses a place without a repository; no empty password")
    func refusals() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        _ = try await makeRepository(backend)
        await #expect(throws: RepositoryError.alreadyExists(repository: backend.location)) { _ = try await makeRepository(backend) }

        let other = LocalBackend(root: directory.appending("photos"))
        try await other.put("holiday.jpg", [1, 2, 3])
        await #expect(throws: RepositoryError.alreadyExists(repository: other.location)) { _ = try await makeRepository(other) }
        await #expect(throws: RepositoryError.notARepository(repository: other.location)) {
            _ = try await Repository.open(other, credential: .password("x"))
        }
        let empty = LocalBackend(root: directory.appending("empty"))
        await #expect(throws: RepositoryError.self) { _ = try await makeRepository(empty, .password("")) }
        await #expect(throws: RepositoryError.self) { _ = try await makeRepository(empty, .keyFile([1, 2, 3])) }
        #expect(try await empty.list("").isEmpty)
    }

    @Test("a power cut at any step of init leaves a repository that opens, or a place where init runs again")
    func initSurvivesPowerCuts() async throws {
        var cut = 0
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            let backend = LocalBackend(root: "/repo", fileSystem: fs)
            fs.cutPower(afterOperations: cut)
            let finished = (try? await makeRepository(backend)) != nil
            fs.crash()
            do {
                _ = try await Repository.open(backend, credential: .password("correct horse"))
            } catch RepositoryError.notARepository {
                _ = try await makeRepository(backend)
                _ = try await Repository.open(backend, credential: .password("correct horse"))
            }
            if finished { break }
            cut += 1
        }
        #expect(cut >= 6, "init makes several durable steps (\(cut))")
    }
}

@Suite("Local repository backend")
struct LocalBackendTests {
    @Test("put, conditional create, ranged get, prefix listing and delete")
    func operations() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo/")) // a trailing slash, as people type it
        try await backend.put("data/ab/abc", Array(0..<100))
        try await backend.put("data/cd/cde", [9])
        try await backend.put("index/1", [1, 2])
        #expect(try await backend.create("locks/x", [1]))
        #expect(try await !backend.create("locks/x", [2]), "a second create of the same name stores nothing")
        #expect(try await backend.get("locks/x") == [1])
        #expect(try await backend.get("data/ab/abc", range: 10..<14) == [10, 11, 12, 13])
        #expect(try await backend.list("data/").map(\.name) == ["data/ab/abc", "data/cd/cde"])
        #expect(try await backend.list("data/ab/").map(\.size) == [100])
        #expect(try await backend.list("").count == 4)
        try await backend.delete("data/ab/abc")
        try await backend.delete("data/ab/abc")
        await #expect(throws: RepositoryError.missing(object: "data/ab/abc")) { _ = try await backend.get("data/ab/abc") }
        let entries = try FileManager.default.contentsOfDirectory(atPath: directory.appending("repo/locks"))
        #expect(entries == ["x"], "no temporary file is left behind")
    }
}

@Suite("Repository key management")
struct RepositoryKeyManagementTests {
    @Test("a second key opens the same repository; the key in use and the last key are never removed; a password change keeps the backups readable")
    func keys() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let backend = LocalBackend(root: directory.appending("repo"))
        let repository = try await Repository.initialize(backend, credential: .password("first"), scryptLogN: RepositoryKeyTests.testCost)
        let keyFile = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let added = try await repository.addKey(.keyFile(keyFile), scryptLogN: RepositoryKeyTests.testCost)
        let viaFile = try await Repository.open(backend, credential: .keyFile(keyFile))
        #expect(viaFile.id == repository.id && viaFile.key.bytes == repository.key.bytes)
        #expect(try await repository.keys().map(\.isCurrent) == [true, false])

        let first = try #require(try await repository.keys().first { $0.isCurrent }).id
        await #expect(throws: RepositoryError.self) { try await repository.removeKey(first) }
        try await viaFile.removeKey(first)
        await #expect(throws: RepositoryError.wrongKey(repository: backend.location)) {
            _ = try await Repository.open(backend, credential: .password("first"))
        }
        await #expect(throws: RepositoryError.self) { try await viaFile.removeKey(added, allowCurrent: true) }
        #expect(try await viaFile.keys().map(\.id) == [added], "the last key stays")
    }

    @Test("a power cut at any step of a password change leaves a repository that opens with the old or the new password, same master key")
    func passwordChangeSurvivesPowerCuts() async throws {
        var cut = 0
        while true {
            let fs = CrashSimulatingFileSystem(seed: UInt64(cut))
            let backend = LocalBackend(root: "/repo", fileSystem: fs)
            let repository = try await Repository.initialize(backend, credential: .password("old"), scryptLogN: RepositoryKeyTests.testCost)
            fs.cutPower(afterOperations: cut)
            var finished = false
            do {
                _ = try await repository.addKey(.password("new"), scryptLogN: RepositoryKeyTests.testCost)
                try await repository.removeKey(repository.openedWith, allowCurrent: true)
                finished = true
            } catch {}
            fs.crash()
            let viaOld = try? await Repository.open(backend, credential: .password("old"))
            let viaNew = try? await Repository.open(backend, credential: .password("new"))
            #expect(viaOld != nil || viaNew != nil, "cut \(cut): neither password opens the repository")
            for opened in [viaOld, viaNew].compactMap({ $0 }) { #expect(opened.key.bytes == repository.key.bytes, "cut \(cut)") }
            if finished {
                #expect(viaOld == nil && viaNew != nil, "after the change, only the new password opens")
                break
            }
            cut += 1
        }
        #expect(cut >= 4, "a password change makes several durable steps (\(cut))")
    }
}
