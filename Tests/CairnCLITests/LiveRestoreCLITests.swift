import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("restore --into: a collection or one tenant into a live database")
struct LiveRestoreCLITests {
    /// A database with tenants acme (300 objects) and globex (200), backed up; then acme is
    /// removed. Returns the repository options.
    private static func prepare(_ directory: TemporaryDirectory, data: String) async throws -> [String] {
        let db = try await Database.open(at: data)
        try await db.createCollection(SampleData.schema(name: "docs", dimensions: 8, multiTenant: true))
        for (tenant, count) in [("acme", 300), ("globex", 200)] {
            try await db.addTenant(tenant, to: "docs")
            try await db.put(SampleData.objects(count: count, dimensions: 8, seed: UInt64(count)), into: "docs", tenant: tenant)
        }
        try await db.flush()
        try await db.put(SampleData.objects(count: 25, dimensions: 8, seed: 5), into: "docs", tenant: "acme") // a WAL tail
        await db.close()
        let password = directory.appending("password")
        try "pw\n".write(toFile: password, atomically: true, encoding: .utf8)
        let repo = ["--repo", directory.appending("repo"), "--password-file", password]
        let cli = CLIRunner(dataDirectory: data)
        #expect(try cli.run(["repo", "init"] + repo, passingData: false).status == 0)
        let backup = try cli.run(["backup", "create"] + repo)
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(try cli.run(["tenant", "remove", "docs", "acme"]).status == 0)
        return repo
    }

    @Test("SIGKILL at each step leaves no trace of the tenant before its record is logged, and the whole tenant after",
          arguments: [("attach-staged", false), ("attach-linked", false), ("attach-logged", true)])
    func killedAtEachStep(point: String, attached: Bool) async throws {
        let directory = TemporaryDirectory("cairn-liverestore")
        defer { directory.remove() }
        let data = directory.appending("data")
        let repo = try await Self.prepare(directory, data: data)
        let cli = CLIRunner(dataDirectory: data)
        let arguments = ["restore", "latest", "--into", data, "--collection", "docs", "--tenant", "acme"] + repo
        let process = try cli.start(arguments, environment: ["CAIRN_CRASH_AT": point])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "killed at \(point)")

        let db = try await Database.open(at: data)
        #expect(try db.tenants(of: "docs").contains { $0.name == "acme" } == attached, "\(point)")
        if attached { #expect(try db.count("docs", tenant: "acme") == 325, "\(point)") }
        #expect(try db.count("docs", tenant: "globex") == 200)
        await db.close()
        #expect(!FileManager.default.fileExists(atPath: data + "/restore-staging"), "opening removed the staging directory")
        if !attached {
            let again = try cli.run(arguments, passingData: false)
            #expect(again.status == 0 && again.stdout.contains("attached tenant acme"), "\(again.stdout)\(again.stderr)")
            #expect(try cli.run(["count", "docs", "--tenant", "acme"]).stdout.contains("325"))
        }
    }

    @Test("while an application holds the database, restore --into goes through its socket; --replace takes a safety snapshot")
    func throughTheHolder() async throws {
        let directory = TemporaryDirectory("cairn-liverestore")
        defer { directory.remove() }
        let data = directory.appending("data")
        let repo = try await Self.prepare(directory, data: data)
        let db = try await Database.open(at: data)
        let cli = CLIRunner(dataDirectory: data)
        let base = ["restore", "latest", "--into", data, "--collection", "docs", "--tenant", "acme"] + repo

        let restored = try await Self.run(cli, base + ["--as", "acme_before"])
        #expect(restored.status == 0 && restored.stdout.contains("attached tenant acme_before"), "\(restored.stdout)\(restored.stderr)")
        #expect(try db.count("docs", tenant: "acme_before") == 325, "visible to the holder at once")
        try await db.addTenant("acme", to: "docs")
        try await db.put(SampleData.objects(count: 3, dimensions: 8, seed: 77), into: "docs", tenant: "acme")
        let refused = try await Self.run(cli, base)
        #expect(refused.status == 1 && refused.stderr.contains("--replace"), "\(refused.stderr)")
        let replaced = try await Self.run(cli, base + ["--replace"])
        #expect(replaced.status == 0 && replaced.stdout.contains("replaced tenant acme") && replaced.stdout.contains("snapshot rollback"),
                "\(replaced.stdout)\(replaced.stderr)")
        #expect(try db.count("docs", tenant: "acme") == 325)
        #expect(db.snapshots().contains { $0.snapshot.label?.contains("restore of tenant acme") == true })
        // The whole collection: refused under its own name (it exists), restored beside it under another.
        let collection = ["restore", "latest", "--into", data, "--collection", "docs"] + repo
        let taken = try await Self.run(cli, collection)
        #expect(taken.status == 1 && taken.stderr.contains("already has a collection 'docs'"), "\(taken.stderr)")
        let beside = try await Self.run(cli, collection + ["--as", "docs_yesterday"])
        #expect(beside.status == 0 && beside.stdout.contains("attached collection docs_yesterday"), "\(beside.stdout)\(beside.stderr)")
        #expect(try db.count("docs_yesterday", tenant: "acme") == 325 && db.count("docs_yesterday", tenant: "globex") == 200)
        await db.close()

        let wrong = try cli.run(["restore", "latest", "--into", data, "--collection", "docs", "--tenant", "a", "--tenant", "b"] + repo,
                                passingData: false)
        #expect(wrong.status != 0 && wrong.stderr.contains("one collection or one tenant"), "\(wrong.stderr)")
    }

    private static func run(_ cli: CLIRunner, _ arguments: [String]) async throws -> CLIRunner.Result {
        try await onOwnThread { try cli.run(arguments, passingData: false) }
    }
}
