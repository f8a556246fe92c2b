import CairnTestSupport
import Foundation
import Testing

@Suite("Export command")
struct ExportCLITests {
    @Test("export writes JSONL that import reads back into the same objects; a tenant exports alone")
    func exportRoundTrip() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let properties = ["--property", "title:text", "--property", "year:int", "--property", "lang:keyword"]
        for name in ["articles", "copy"] {
            #expect(try cli.run(["collection", "create", name, "--dimensions", "8"] + properties).status == 0)
        }
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 2500, dimensions: 8, seed: 6)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", file]).status == 0)
        #expect(try cli.run(["flush"]).status == 0)
        #expect(try cli.run(["delete", "articles", SampleData.objects(count: 1, dimensions: 8, seed: 6)[0].id.uuidString]).status == 0)

        let exported = try cli.run(["export", "articles"])
        #expect(exported.status == 0 && exported.stderr.contains("exported 2499 objects"), "\(exported.stderr)")
        #expect(exported.stdout.split(separator: "\n").count == 2499)
        let exportFile = directory.appending("export.jsonl")
        try exported.stdout.write(toFile: exportFile, atomically: true, encoding: .utf8)
        let imported = try cli.run(["import", "copy", exportFile])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try cli.run(["export", "copy"]).stdout == exported.stdout, "the copy exports to the same bytes: ids, properties, vectors")

        #expect(try cli.run(["collection", "create", "per_customer", "--dimensions", "8", "--multi-tenant"] + properties).status == 0)
        #expect(try cli.run(["tenant", "add", "per_customer", "acme"]).status == 0)
        #expect(try cli.run(["tenant", "add", "per_customer", "globex"]).status == 0)
        #expect(try cli.run(["import", "per_customer", file, "--tenant", "acme"]).status == 0)
        let acme = try cli.run(["export", "per_customer", "--tenant", "acme"])
        let globex = try cli.run(["export", "per_customer", "--tenant", "globex"])
        #expect(acme.stdout.split(separator: "\n").count == 2500 && globex.status == 0 && globex.stdout.isEmpty)
        #expect(try cli.run(["export", "nothing"]).status == 1, "an unknown collection is an error")
    }
}
