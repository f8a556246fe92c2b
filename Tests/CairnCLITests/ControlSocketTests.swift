import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("Control socket: cairn commands on a database another process holds")
struct ControlSocketTests {
    /// Runs the CLI on a thread of its own, so the concurrency pool stays free to serve the
    /// control socket of the database this test process holds.
    private static func run(_ cli: CLIRunner, _ arguments: [String], input: Data? = nil) async throws -> CLIRunner.Result {
        try await onOwnThread { try cli.run(arguments, input: input) }
    }

    @Test("while an application holds the database, count, stats, get, search, import, export, snapshots and storage-snapshot windows go through its socket")
    func commandsReachTheHolder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(dimensions: 8))
        let objects = SampleData.objects(count: 500, dimensions: 8, seed: 12)
        try await db.put(Array(objects.prefix(100)), into: "articles")
        #expect(FileManager.default.fileExists(atPath: data + "/control.sock"))
        let cli = CLIRunner(dataDirectory: data)

        let file = directory.appending("more.jsonl")
        try SampleData.jsonl(Array(objects.dropFirst(100))).write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try await Self.run(cli, ["import", "articles", file, "--batch-size", "150"])
        #expect(imported.status == 0 && imported.stdout.contains("imported 400 objects"), "\(imported.stdout)\(imported.stderr)")
        #expect(try db.count("articles") == 500, "acknowledged by the holder: visible to it at once")

        let count = try await Self.run(cli, ["count", "articles", "--filter", "year >= 1990"])
        #expect(count.status == 0 && count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "500", "\(count.stdout)\(count.stderr)")
        let stats = try await Self.run(cli, ["stats", "--json"])
        #expect(stats.status == 0 && stats.stdout.contains("\"objects\" : 500"), "\(stats.stdout)\(stats.stderr)")
        let got = try await Self.run(cli, ["get", "articles", objects[7].id.uuidString])
        #expect(got.status == 0 && got.stdout.contains(objects[7].id.uuidString.lowercased()), "\(got.stdout)\(got.stderr)")
        let vector = "[" + objects[3].vector.map { "\($0)" }.joined(separator: ",") + "]"
        let search = try await Self.run(cli, ["search", "articles", "--vector", vector, "--limit", "1", "--json"])
        #expect(search.status == 0 && search.stdout.contains(objects[3].id.uuidString.lowercased()), "\(search.stdout)\(search.stderr)")
        let begin = try await Self.run(cli, ["storage-snapshot", "begin", "--label", "lvm"])
        #expect(begin.status == 0 && db.stats().storageSnapshotWindow?.label == "lvm", "\(begin.stderr)")
        let end = try await Self.run(cli, ["storage-snapshot", "end"])
        #expect(end.status == 0 && db.stats().storageSnapshotWindow == nil, "\(end.stderr)")
        let snapshot = try await Self.run(cli, ["snapshot", "create", "--label", "via-socket"])
        #expect(snapshot.status == 0 && db.snapshots().contains { $0.snapshot.label == "via-socket" }, "\(snapshot.stderr)")

        // Writes and catalog changes, acknowledged by the holder.
        for arguments in [["collection", "create", "per_customer", "--dimensions", "4", "--multi-tenant"], ["tenant", "add", "per_customer", "acme"],
                          ["tenant", "deactivate", "per_customer", "acme"], ["alias", "set", "latest", "articles"],
                          ["collection", "set", "articles", "--ingestion", #"{"model": "m"}"#], ["delete", "articles", objects[9].id.uuidString],
                          ["snapshot", "delete", db.snapshots().first { $0.snapshot.label == "via-socket" }!.snapshot.id]] {
            let result = try await Self.run(cli, arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(try db.tenants(of: "per_customer").map(\.state) == [.inactive] && db.aliases() == ["latest": "articles"])
        #expect(try db.collection(named: "articles").ingestion == .object(["model": .string("m")]) && db.count("articles") == 499)
        #expect(!db.snapshots().contains { $0.snapshot.label == "via-socket" })
        let listed = try await Self.run(cli, ["collection", "list"])
        #expect(listed.stdout.contains("per_customer") && listed.stdout.contains("499"), "\(listed.stdout)\(listed.stderr)")
        let tenants = try await Self.run(cli, ["tenant", "list", "per_customer"])
        #expect(tenants.stdout.contains("acme") && tenants.stdout.contains("inactive"), "\(tenants.stdout)")
        #expect(try await Self.run(cli, ["collection", "drop", "per_customer"]).status == 0)
        #expect(db.collections().map(\.name) == ["articles"])

        // A backup the holder takes, restorable by anyone with the password.
        let password = directory.appending("password")
        try "pw\n".write(toFile: password, atomically: true, encoding: .utf8)
        let repo = ["--repo", directory.appending("repo"), "--password-file", password]
        #expect(try await Self.run(cli, ["repo", "init"] + repo).status == 0)
        let backup = try await Self.run(cli, ["backup", "create", "--collection", "articles"] + repo)
        #expect(backup.status == 0 && backup.stdout.contains("of articles"), "\(backup.stdout)\(backup.stderr)")
        let restored = try await Self.run(CLIRunner(dataDirectory: directory.appending("restored")),
                                          ["restore", "latest", "--target", directory.appending("restored")] + repo)
        #expect(restored.status == 0 && restored.stdout.contains("499 objects"), "\(restored.stdout)\(restored.stderr)")

        let unknown = try await Self.run(cli, ["--json", "count", "nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("\"collectionNotFound\""), "the holder's typed error: \(unknown.stderr)")
        let bad = try await Self.run(cli, ["import", "articles", "-"], input: Data("{\"vector\": [1, 2]}\n".utf8))
        #expect(bad.status == 1 && bad.stderr.contains("line 1") && bad.stderr.contains("8"), "\(bad.stderr)")
        let rollback = try await Self.run(cli, ["snapshot", "rollback", db.snapshots()[0].snapshot.id])
        #expect(rollback.status == 1 && rollback.stderr.contains("LOCK"), "a rollback needs the directory to itself: \(rollback.stderr)")
        // An export streamed by the holder is the export a process of its own makes.
        let held = try await Self.run(cli, ["export", "articles", "--with-metadata", "--output", directory.appending("held.jsonl")])
        #expect(held.status == 0 && held.stderr.contains("exported 499 objects"), "\(held.stderr)")
        let schema = try await Self.run(cli, ["export", "articles", "--schema"])
        #expect(schema.status == 0 && schema.stdout.contains("\"cairnSchema\""), "\(schema.stderr)")
        await db.close()
        #expect(!FileManager.default.fileExists(atPath: data + "/control.sock"), "closing removes the socket")
        #expect(try cli.run(["export", "articles", "--with-metadata", "--output", directory.appending("own.jsonl")]).status == 0)
        #expect(FileManager.default.contents(atPath: directory.appending("held.jsonl")) == FileManager.default.contents(atPath: directory.appending("own.jsonl")))
    }

    @Test("the socket survives a client that hangs up mid-request or sends garbage; a stale socket file is replaced; an application can turn it off")
    func robustness() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: data + "/control.sock", contents: Data("left by a dead process".utf8)))
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(dimensions: 4))
        let cli = CLIRunner(dataDirectory: data)

        for message in ["{\"version\": 1, \"request\": {\"cou", "not json at all\n", "{\"version\": 99}\n"] {
            let descriptor = try Self.connect(data + "/control.sock")
            _ = message.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            close(descriptor)
        }
        let count = try await Self.run(cli, ["count", "articles"])
        #expect(count.status == 0 && count.stdout.contains("0"), "\(count.stdout)\(count.stderr)")
        await db.close()

        var options = EngineOptions()
        options.controlSocket = false
        let quiet = try await Database.open(at: data, options: options)
        let refused = try await Self.run(cli, ["count", "articles"])
        #expect(refused.status == 1 && refused.stderr.contains("does not accept commands"), "\(refused.stderr)")
        await quiet.close()
    }

    @Test("while one cairn import holds the database, a second import, a search and a storage-snapshot window work from other processes; nothing acknowledged is lost")
    func twoImports() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let objects = SampleData.objects(count: 900, dimensions: 8, seed: 13)
        for (name, slice) in [("a1", objects[0..<300]), ("a2", objects[300..<600]), ("b", objects[600..<900])] {
            try SampleData.jsonl(Array(slice)).write(toFile: directory.appending(name + ".jsonl"), atomically: true, encoding: .utf8)
        }
        // The first import holds the database while its input, a pipe this test writes, waits.
        let fifo = directory.appending("input.fifo")
        try NamedPipe.create(fifo)
        let holder = try cli.start(["import", "articles", fifo, "--batch-size", "100"])
        let writer = try await NamedPipe.openForWriting(fifo)
        try writer.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: directory.appending("a1.jsonl"))))
        var held = false
        for _ in 0..<3000 where !held {
            held = FileManager.default.fileExists(atPath: data + "/control.sock")
            if !held { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(held, "the importing process listens on the socket")
        let second = try await Self.run(cli, ["import", "articles", directory.appending("b.jsonl")])
        #expect(second.status == 0 && second.stdout.contains("imported 300 objects"), "\(second.stdout)\(second.stderr)")
        let vector = "[" + objects[650].vector.map { "\($0)" }.joined(separator: ",") + "]"
        let search = try await Self.run(cli, ["search", "articles", "--vector", vector, "--limit", "1", "--json"])
        #expect(search.status == 0 && search.stdout.contains(objects[650].id.uuidString.lowercased()), "\(search.stderr)")
        #expect(try await Self.run(cli, ["storage-snapshot", "begin", "--label", "copy"]).status == 0)
        #expect(try await Self.run(cli, ["storage-snapshot", "end"]).status == 0)
        try writer.write(contentsOf: Data(contentsOf: URL(fileURLWithPath: directory.appending("a2.jsonl"))))
        try writer.close()
        holder.waitUntilExit()
        #expect(holder.terminationStatus == 0)
        let count = try cli.run(["count", "articles"])
        #expect(count.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "900", "every object of both imports: \(count.stdout)\(count.stderr)")
    }

    private static func connect(_ path: String) throws -> Int32 {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else { throw CairnError.io(path: path, operation: "connect", reason: String(cString: strerror(errno))) }
        return descriptor
    }
}
