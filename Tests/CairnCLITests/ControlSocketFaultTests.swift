import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("Control socket under faults: another user, a holder killed mid-request")
struct ControlSocketFaultTests {
    @Test("a connection from another user is refused by the holder's uid check, and the holder goes on serving",
          .enabled(if: geteuid() == 0, "needs root to connect as another user"))
    func refusesAnotherUser() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(dimensions: 4))
        // Let the other user reach the socket file, so the holder's own check is what refuses.
        for path in [directory.path, data] { chmod(path, 0o755) }
        chmod(data + "/control.sock", 0o666)
        let script = """
            import os, socket, sys
            os.setgid(65534); os.setuid(65534)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sys.argv[1])
            try:
                s.sendall(b'{"version":1,"request":{"stats":{}}}\\n')
            except BrokenPipeError:
                pass  # the holder may have answered and hung up first
            print(s.recv(65536).decode())
            """
        let reply = try await onOwnThread {
            try CLIRunner(executable: "/usr/bin/env").run(["python3", "-c", script, data + "/control.sock"], passingData: false)
        }
        #expect(reply.status == 0 && reply.stdout.contains("permission") && reply.stdout.contains("serves only the user"),
                "\(reply.stdout)\(reply.stderr.suffix(400))")
        let count = try await onOwnThread { try CLIRunner(dataDirectory: data).run(["count", "articles"]) }
        #expect(count.status == 0 && count.stdout.contains("0"), "the owner is still served: \(count.stderr)")
        await db.close()
    }

    @Test("SIGKILL of the holder while another process imports through it loses nothing either acknowledged")
    func holderKilledMidRequest() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let data = directory.appending("data")
        let cli = CLIRunner(dataDirectory: data)
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let own = SampleData.objects(count: 200, dimensions: 8, seed: 31)
        let through = SampleData.objects(count: 20_000, dimensions: 8, seed: 32)
        try SampleData.jsonl(through).write(toFile: directory.appending("b.jsonl"), atomically: true, encoding: .utf8)
        let fifo = directory.appending("input.fifo")
        try NamedPipe.create(fifo)
        // A threshold of 0: the holder reads no more than one line ahead before it writes.
        let holder = try cli.start(["import", "articles", fifo, "--batch-size", "50", "--bulk-import-threshold", "0",
                                    "--ack-file", directory.appending("holder.ack")])
        let writer = try await NamedPipe.openForWriting(fifo)
        try writer.write(contentsOf: Data(SampleData.jsonl(own).utf8))
        // The holder commits a batch once the next one is read (or its input ends): 150 of the 200 lines.
        #expect(try await Self.waitFor { FileManager.default.fileExists(atPath: data + "/control.sock") && Self.acknowledged(directory.appending("holder.ack")) >= 150 })

        let client = try cli.start(["import", "articles", directory.appending("b.jsonl"), "--batch-size", "10",
                                    "--ack-file", directory.appending("client.ack")])
        // Killed from the polling thread itself: this task may wait for a busy pool to resume it.
        let holderID = holder.processIdentifier
        #expect(try await Self.waitFor({ Self.acknowledged(directory.appending("client.ack")) >= 500 }, then: { kill(holderID, SIGKILL) }))
        holder.waitUntilExit()
        client.waitUntilExit()
        try? writer.close()
        #expect(client.terminationStatus != 0, "the client's import stops when its holder dies")
        let acknowledged = Self.acknowledged(directory.appending("client.ack"))
        let acknowledgedByHolder = Self.acknowledged(directory.appending("holder.ack"))
        #expect(acknowledged < through.count, "the holder died mid-import (\(acknowledged) acknowledged)")

        let db = try await Database.open(at: data)
        for object in own.prefix(acknowledgedByHolder) + through.prefix(acknowledged) {
            guard try db.get(object.id, from: "articles") != nil else {
                Issue.record("acknowledged object \(object.id) is missing")
                break
            }
        }
        await db.close()
    }

    /// The last number of committed lines an import wrote to its ack file (0 before any).
    private static func acknowledged(_ path: String) -> Int {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return 0 }
        return text.split(separator: "\n").last.flatMap { Int($0) } ?? 0
    }

    /// Waits (up to a minute) until `condition` holds, then runs `action` at once; whether it
    /// held. Polls from a thread of its own: a task's sleep can oversleep while other tests keep
    /// the pool busy.
    private static func waitFor(_ condition: @escaping @Sendable () -> Bool,
                                then action: @escaping @Sendable () -> Void = {}) async throws -> Bool {
        try await onOwnThread {
            var waited = 0
            while !condition() && waited < 60_000 {
                usleep(1000)
                waited += 1
            }
            let held = condition()
            if held { action() }
            return held
        }
    }
}
