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

    @Test("export --schema and collection create --from-schema, then export and import: identical objects, vectors and schema for every property type")
    func everyPropertyTypeRoundTrips() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let source = CLIRunner(dataDirectory: directory.appending("source"))
        let types = ["t:text", "k:keyword", "i:int", "f:float", "b:bool", "d:date", "u:uuid", "ts:text[]", "is:int[]", "fs:float[]:noindex"]
        let created = try source.run(["collection", "create", "things", "--dimensions", "3", "--metric", "dot", "--m", "12",
                                      "--ef-search", "40", "--quantization", "int8", "--ingestion", #"{"model": "minilm", "fields": ["t"]}"#,
                                      "--source", directory.appending("corpus")] + types.flatMap { ["--property", $0] })
        #expect(created.status == 0 && created.stderr.contains("does not exist"), "a missing source is declared with a warning: \(created.stderr)")
        let lines = [
            #"{"id":"00000000-0000-4000-8000-000000000001","properties":{"t":"quote \" backslash \\ newline \n tab \t bell \u0007 é 日本","k":"en","i":-9223372036854775808,"f":0.1,"b":true,"d":"2024-05-01T12:00:00.250Z","u":"6f9619ff-8b86-d011-b42d-00c04fc964ff","ts":["a","b"],"is":[1,-2],"fs":[1.5e300,-0.0]},"vector":[0.1,-3.4028235e+38,1.1754944e-38]}"#,
            #"{"id":"00000000-0000-4000-8000-000000000002","properties":{"i":9223372036854775807,"b":false},"vector":[1e-30,0,-0.0]}"#,
            #"{"id":"00000000-0000-4000-8000-000000000003","properties":{},"vector":[3.14159274,2.71828175,1]}"#,
        ]
        let input = directory.appending("in.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(toFile: input, atomically: true, encoding: .utf8)
        let imported = try source.run(["import", "things", input])
        #expect(imported.status == 0, "\(imported.stderr)")

        let schemaFile = directory.appending("things.schema.json")
        let schema = try source.run(["export", "things", "--schema", "--output", schemaFile])
        #expect(schema.status == 0, "\(schema.stderr)")
        let schemaText = try String(contentsOfFile: schemaFile, encoding: .utf8)
        #expect(schemaText.contains("\"minilm\"") && schemaText.contains(directory.appending("corpus")) && !schemaText.contains("createdLSN"))
        #expect(schemaText.contains("\"quantization\" : \"int8\""), "\(schemaText)")
        #expect(try source.run(["collection", "show", "things"]).stdout.contains("quantization int8"))
        let objects = directory.appending("things.jsonl")
        let exported = try source.run(["export", "things", "--output", objects])
        #expect(exported.status == 0 && exported.stdout.isEmpty && exported.stderr.contains("exported 3 objects"), "\(exported.stderr)")
        #expect(!FileManager.default.fileExists(atPath: objects + ".partial"))

        let copy = CLIRunner(dataDirectory: directory.appending("copy"))
        let fromSchema = try copy.run(["collection", "create", "--from-schema", schemaFile])
        #expect(fromSchema.status == 0, "\(fromSchema.stderr)")
        #expect(try copy.run(["import", "things", objects]).status == 0)
        let sourceShow = try source.run(["collection", "show", "things", "--json"]).stdout
        let copyShow = try copy.run(["collection", "show", "things", "--json"]).stdout
        #expect(!copyShow.isEmpty && Self.withoutCreatedLSN(copyShow) == Self.withoutCreatedLSN(sourceShow), "the same schema: \(copyShow)")
        let again = try copy.run(["export", "things"])
        let firstExport = try String(contentsOfFile: objects, encoding: .utf8)
        #expect(again.stdout == firstExport, "the same objects, byte for byte")
        for line in lines {
            let id = String(line.dropFirst(7).prefix(36))
            let original = try source.run(["get", "things", id, "--json"]).stdout
            let copied = try copy.run(["get", "things", id, "--json"]).stdout
            #expect(!original.isEmpty && Self.withoutTimestamps(original) == Self.withoutTimestamps(copied), "\(original) vs \(copied)")
        }
        #expect(again.stdout.contains("-3.4028235e+38") && again.stdout.contains("1e-30") && again.stdout.contains("\\u0007"), "\(again.stdout)")

        let renamed = try copy.run(["collection", "create", "--from-schema", schemaFile, "things_v2"])
        #expect(renamed.status == 0 && renamed.stdout.contains("things_v2"), "\(renamed.stdout)\(renamed.stderr)")
        try "{\"cairnSchema\": 1, \"name\": \"x\"}".write(toFile: directory.appending("bad.json"), atomically: true, encoding: .utf8)
        let bad = try copy.run(["collection", "create", "--from-schema", directory.appending("bad.json")])
        #expect(bad.status != 0 && bad.stderr.contains("has no \"dimensions\""), "\(bad.stderr)")
    }

    @Test("export --with-metadata, --filter, and --output that leaves no file when it fails; collection set replaces sources, ingestion and search settings")
    func exportOptions() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let file = directory.appending("data.jsonl")
        let objects = SampleData.objects(count: 300, dimensions: 8, seed: 8)
        try SampleData.jsonl(objects).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", file]).status == 0)

        let withMetadata = try cli.run(["export", "articles", "--with-metadata"])
        let first = withMetadata.stdout.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.hasPrefix(#"{"createdAt":""#) && first.contains(#""updatedAt":""#), "\(first)")
        let metadataFile = directory.appending("meta.jsonl")
        try withMetadata.stdout.write(toFile: metadataFile, atomically: true, encoding: .utf8)
        #expect(try cli.run(["collection", "create", "copy", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let reimported = try cli.run(["import", "copy", metadataFile])
        #expect(reimported.status == 0, "import accepts the timestamps: \(reimported.stderr)")

        let filtered = try cli.run(["export", "articles", "--filter", "year >= 2010"])
        let expected = try cli.run(["count", "articles", "--filter", "year >= 2010"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(filtered.status == 0 && filtered.stderr.contains("exported \(expected) objects"), "\(filtered.stderr) vs \(expected)")
        #expect(Int(expected) ?? 0 > 0 && Int(expected) ?? 300 < 300)

        let output = directory.appending("out.jsonl")
        let failed = try cli.run(["export", "articles", "--filter", "nope = 1", "--output", output])
        #expect(failed.status != 0 && !FileManager.default.fileExists(atPath: output) && !FileManager.default.fileExists(atPath: output + ".partial"))

        let corpus = directory.appending("corpus")
        try FileManager.default.createDirectory(atPath: corpus, withIntermediateDirectories: true)
        let set = try cli.run(["collection", "set", "articles", "--source", corpus, "--source", file, "--ingestion", #"{"model":"m2"}"#])
        #expect(set.status == 0 && set.stdout.contains("2 source path(s)"), "\(set.stdout)\(set.stderr)")
        let shown = try cli.run(["collection", "show", "articles"])
        #expect(shown.stdout.contains(corpus) && shown.stdout.contains("m2"), "\(shown.stdout)")
        #expect(shown.stdout.contains("quantization none"), "an unquantized collection says so: \(shown.stdout)")
        #expect(try cli.run(["collection", "set", "articles"]).status != 0, "nothing to change is refused")
        let cleared = try cli.run(["collection", "set", "articles", "--no-sources", "--no-ingestion"])
        let afterClear = try cli.run(["collection", "show", "articles"]).stdout
        #expect(cleared.status == 0 && !afterClear.contains(corpus))

        let tuned = try cli.run(["collection", "set", "articles", "--ef-search", "96", "--quantization", "int8"])
        #expect(tuned.status == 0 && tuned.stdout.contains("efSearch 96, quantization int8"), "\(tuned.stdout)\(tuned.stderr)")
        let afterTune = try cli.run(["collection", "show", "articles"]).stdout
        #expect(afterTune.contains("efSearch=96") && afterTune.contains("quantization int8"), "\(afterTune)")
        let badTune = try cli.run(["collection", "set", "articles", "--quantization", "int4"])
        #expect(badTune.status == 2 && badTune.stderr.contains("unknown quantization 'int4'; use int8, none"), "\(badTune.stderr)")
        #expect(try cli.run(["collection", "set", "articles", "--ef-search", "0"]).status == 2)
        #expect(try cli.run(["collection", "set", "articles", "--quantization", "none"]).status == 0)
        #expect(try cli.run(["collection", "show", "articles"]).stdout.contains("efSearch=96\n  quantization none"))
    }

    private static func withoutCreatedLSN(_ json: String) -> String {
        json.split(separator: "\n").filter { !$0.contains("createdLSN") }.joined(separator: "\n")
    }

    private static func withoutTimestamps(_ json: String) -> String {
        json.split(separator: "\n").filter { !$0.contains("createdAt") && !$0.contains("updatedAt") }.joined(separator: "\n")
    }
}
