import Cairn
import CairnTestSupport
import Foundation
import Testing

@Suite("cairn command line")
struct CLITests {
    @Test("the issue's walkthrough works end to end, with --json output")
    func walkthrough() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let create = try cli.run(["collection", "create", "articles", "--dimensions", "8", "--metric", "cosine",
                                  "--property", "title:text", "--property", "year:int", "--property", "lang:keyword",
                                  "--multi-tenant", "--ingestion", #"{"model":"mini","fields":["title"]}"#])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(try cli.run(["tenant", "add", "articles", "acme"]).status == 0)
        let objects = SampleData.objects(count: 50, dimensions: 8, seed: 9)
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(objects).write(toFile: file, atomically: true, encoding: .utf8)
        let imported = try cli.run(["import", "articles", file, "--tenant", "acme", "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("\"objects\" : 50"))

        let get = try cli.run(["get", "articles", objects[3].id.uuidString, "--tenant", "acme"])
        #expect(get.status == 0)
        #expect(get.stdout.contains(objects[3].id.uuidString.lowercased()))

        let query = directory.appending("q.json")
        try "[\(objects[7].vector.map { String($0) }.joined(separator: ","))]".write(toFile: query, atomically: true, encoding: .utf8)
        let search = try cli.run(["search", "articles", "--vector-file", query, "--limit", "3", "--tenant", "acme", "--json"])
        #expect(search.status == 0, "\(search.stderr)")
        let hits = try JSONDecoder().decode([JSONValue].self, from: Data(search.stdout.utf8))
        #expect(hits.count == 3)
        #expect(hits.first.flatMap { if case let .object(fields) = $0 { return fields["id"] }; return nil } == .string(objects[7].id.uuidString.lowercased()))

        #expect(try cli.run(["alias", "set", "latest-articles", "articles"]).status == 0)
        let show = try cli.run(["collection", "show", "latest-articles", "--json"])
        #expect(show.stdout.contains("\"model\" : \"mini\""))
        let stats = try cli.run(["--data", cli.dataDirectory, "--json", "stats"], passingData: false)
        let parsed = try JSONDecoder().decode([String: JSONValue].self, from: Data(stats.stdout.utf8))
        #expect(parsed["objects"] == .int(50))
        #expect(try cli.run(["collection", "list", "--json"]).status == 0)
        let drop = try cli.run(["collection", "drop", "articles"])
        #expect(drop.status == 0)
        #expect(try cli.run(["collection", "list", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]")
    }

    @Test("usage errors exit 2, failed operations exit 1 with a message")
    func exitCodes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        #expect(try cli.run(["collection", "create", "x"]).status == 2) // --dimensions missing
        #expect(try cli.run(["collection", "create", "x", "--dimensions", "4", "--metric", "hamming"]).status == 2)
        #expect(try cli.run(["collection", "create", "x", "--dimensions", "4", "--property", "a:blob"]).status == 2)
        let badQuantization = try cli.run(["collection", "create", "x", "--dimensions", "4", "--quantization", "int4"])
        #expect(badQuantization.status == 2 && badQuantization.stderr.contains("unknown quantization 'int4'"))
        #expect(try cli.run(["frobnicate"]).status == 2)
        // Read commands refuse a directory that holds no database instead of creating one.
        let noDatabase = try cli.run(["stats"])
        #expect(noDatabase.status == 1)
        #expect(noDatabase.stderr.contains("not a Cairn data directory"))
        #expect(!FileManager.default.fileExists(atPath: cli.dataDirectory))
        let created = try cli.run(["collection", "create", "x", "--dimensions", "4", "--property", "year:int"])
        #expect(created.status == 0)
        #expect(created.stdout.contains("created a new database"))
        let missing = try cli.run(["search", "nope", "--vector", "[1,2]"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("no collection or alias named 'nope'"))
        let duplicate = try cli.run(["collection", "create", "x", "--dimensions", "4"])
        #expect(duplicate.status == 1)
        let badFilter = try cli.run(["search", "x", "--vector", "[1,2,3,4]", "--filter", "year >> 2"])
        #expect(badFilter.status == 1)
        #expect(badFilter.stderr.contains("column 7"))
        let file = directory.appending("bad.jsonl")
        try "{\"vector\":[1,2,3,4]}\n{\"vector\":[1,2,3]}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let badImport = try cli.run(["import", "x", file])
        #expect(badImport.status == 1)
        #expect(badImport.stderr.contains("line 2"))
        #expect(try cli.run(["count", "x"]).stdout == "0\n")
        #expect(try cli.run(["import", "x", file, "--dry-run"]).status == 1)
        #expect(try cli.run(["--help"]).status == 0)
    }
}
