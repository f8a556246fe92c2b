import Cairn
import CairnTestSupport
import Foundation
import Testing

/// The command line used as a careless or hostile user would: every case gets a clear error and
/// an exit status that follows one rule, and nothing is lost or silently changed.
@Suite("cairn: hostile command lines")
struct HostileCommandLineTests {
    private func database(_ directory: TemporaryDirectory) throws -> CLIRunner {
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let created = try cli.run(["collection", "create", "items", "--dimensions", "2", "--property", "year:int"])
        #expect(created.status == 0, "\(created.stderr)")
        return cli
    }

    @Test("a deeply nested or huge filter is refused with the column, never a crash")
    func nestedFilter() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        for depth in [100, 40_000] {
            let filter = String(repeating: "(", count: depth) + "year = 1" + String(repeating: ")", count: depth)
            let result = try cli.run(["count", "items", "--filter", filter])
            #expect(result.status == 1, "depth \(depth): \(result.status)")
            #expect(result.stderr.contains("invalid filter at column"), "\(result.stderr.prefix(200))")
        }
        let notNot = String(repeating: "not ", count: 500) + "year = 1"
        #expect(try cli.run(["count", "items", "--filter", notNot]).stderr.contains("nests deeper"))
        let fine = String(repeating: "(", count: 30) + "year = 1" + String(repeating: ")", count: 30)
        #expect(try cli.run(["count", "items", "--filter", fine]).status == 0)
    }

    @Test("permissions are parsed strictly", arguments: ["write:", "write:../../etc", "admin:nonexistent", "read:*:x", "delete:items", ""])
    func badPermissions(permission: String) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let result = try cli.run(["access", "role-set", "w", "--permission", permission])
        #expect(result.status != 0)
        #expect(!(try cli.run(["access", "list"]).stdout.contains("\nw ")))
    }

    @Test("good permissions are stored as given")
    func goodPermissions() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let result = try cli.run(["access", "role-set", "w", "--permission", "write:items", "--permission", "read", "--permission", "backup:*"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("write:items, read:*, backup:*"))
    }

    @Test("adding an existing user is refused; --replace says what it revokes")
    func existingUser() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        #expect(try cli.run(["access", "role-set", "w", "--permission", "write:items"]).status == 0)
        let first = try cli.run(["access", "user-add", "ann", "--role", "w", "--json"])
        #expect(first.status == 0)
        let again = try cli.run(["access", "user-add", "ann", "--role", "w"])
        #expect(again.status == 1)
        #expect(again.stderr.contains("--replace"))
        #expect(try cli.run(["access", "list", "--json"]).stdout == (try cli.run(["access", "list", "--json"]).stdout))
        let replaced = try cli.run(["access", "user-add", "ann", "--role", "w", "--replace"])
        #expect(replaced.status == 0)
        #expect(replaced.stdout.contains("1 previous API key no longer works"))
    }

    @Test("a property named like a filter keyword is refused when the collection is created")
    func keywordProperty() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        for name in ["not", "AND", "in"] {
            let result = try cli.run(["collection", "create", "k\(name)", "--dimensions", "2", "--property", "\(name):int"])
            #expect(result.status == 1)
            #expect(result.stderr.contains("filter language"))
        }
    }

    @Test("one exit-status rule, JSON errors with --json, help for unknown commands, --version")
    func exitStatusRule() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        #expect(try cli.run(["collection", "create", "z", "--dimensions", "0"]).status == 2)
        #expect(try cli.run(["search", "items", "--vector", "[1,2]", "--limit", "0"]).status == 2)
        let json = try cli.run(["search", "nope", "--vector", "[1,2]", "--json"])
        #expect(json.status == 1)
        let error = try JSONDecoder().decode([String: [String: String]].self, from: Data(json.stderr.utf8))
        #expect(error["error"]?["kind"] == "collectionNotFound")
        #expect(try cli.run(["help", "nosuch"], passingData: false).status == 2)
        #expect(try cli.run(["help", "snapshot", "rollback"], passingData: false).status == 0)
        let version = try cli.run(["--version"], passingData: false)
        #expect(version.status == 0 && version.stdout == Database.version + "\n")
    }

    @Test("a data directory that lost CURRENT is refused by every command, and repair current brings it back")
    func lostCurrent() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        #expect(try cli.run(["put", "items", #"{"vector":[1,2]}"#]).status == 0)
        #expect(try cli.run(["flush"]).status == 0)
        #expect(try cli.run(["put", "items", #"{"vector":[3,4]}"#]).status == 0)
        try FileManager.default.removeItem(atPath: cli.dataDirectory + "/CURRENT")
        for command in [["stats"], ["count", "items"], ["collection", "create", "other", "--dimensions", "2"]] {
            let refused = try cli.run(command)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("cairn repair current 000002.json"), "\(refused.stderr)")
        }
        #expect(try cli.run(["repair", "current", "000002.json"]).status == 0)
        #expect(try cli.run(["count", "items"]).stdout == "2\n")
    }

    @Test("deleting an id that does not exist says so")
    func deleteMissing() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let id = "6f1c3f8e-8a4b-4f3e-9a59-0c1d2e3f4a5b"
        #expect(try cli.run(["put", "items", #"{"id":"\#(id)","vector":[1,2]}"#]).status == 0)
        let missing = "00000000-0000-4000-8000-000000000001"
        let result = try cli.run(["delete", "items", id, missing])
        #expect(result.status == 1)
        #expect(result.stdout.contains("deleted 1 object; no object with id \(missing)"))
        #expect(try cli.run(["count", "items"]).stdout == "0\n")
    }

    @Test("an alias pointed at an alias names the collection to use")
    func aliasOfAlias() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        #expect(try cli.run(["alias", "set", "a1", "items"]).status == 0)
        let result = try cli.run(["alias", "set", "a4", "a1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("'a1' is an alias (of 'items')"))
    }

    @Test("a damaged data directory: verify exits 1 naming the file; a torn tail exits 3 with a warning")
    func verifyExitStatus() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        #expect(try cli.run(["put", "items", #"{"vector":[1,2]}"#]).status == 0)
        #expect(try cli.run(["verify"]).status == 0)
        let wal = cli.dataDirectory + "/wal/000001.log"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: wal))
        // A crash: the "closed" record is missing and the last record was cut short.
        bytes.removeLast(29 + 3)
        try bytes.write(to: URL(fileURLWithPath: wal))
        let torn = try cli.run(["verify", "--json"])
        #expect(torn.status == 3)
        #expect(torn.stdout.contains("torn tail"))
        try FileManager.default.removeItem(atPath: wal)
        let missing = try cli.run(["verify"])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("000001.log"))
    }
}
