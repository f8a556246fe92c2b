import Cairn
import CairnTestSupport
import Foundation
import Testing

/// Imports from every kind of input a user has, and what they say when the input is wrong.
@Suite("cairn import: inputs")
struct ImportInputTests {
    /// A data directory with collection `c` (4 dimensions, an int property `n`).
    private func database(_ directory: TemporaryDirectory) throws -> CLIRunner {
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let created = try cli.run(["collection", "create", "c", "--dimensions", "4", "--property", "n:int"])
        #expect(created.status == 0, "\(created.stderr)")
        return cli
    }

    private func lines(_ count: Int, seed: UInt64) -> String {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            let vector = generator.vector(4).map { String($0) }.joined(separator: ",")
            return #"{"id":"\#(generator.uuid().uuidString.lowercased())","properties":{"n":\#(index)},"vector":[\#(vector)]}"#
        }.joined(separator: "\n") + "\n"
    }

    @Test("standard input (-) and a pipe named as a file import every object once")
    func pipes() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let first = try cli.run(["import", "c", "-"], input: Data(lines(500, seed: 1).utf8))
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("imported 500 objects"))
        let second = try cli.run(["import", "c", "/dev/stdin", "--batch-size", "64"], input: Data(lines(300, seed: 2).utf8))
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("imported 300 objects"))
        #expect(try cli.run(["count", "c"]).stdout == "800\n")
        // A dry run on a pipe validates the stream it reads, once.
        let dry = try cli.run(["import", "c", "-", "--dry-run"], input: Data(lines(200, seed: 3).utf8))
        #expect(dry.stdout.contains("all 200 objects"))
    }

    @Test("a bulk import from a pipe takes its safety snapshot once its first batch is valid; a failed one takes none")
    func bulkImportFromPipe() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let bulk = try cli.run(["import", "c", "-", "--bulk-import-threshold", "100", "--json"], input: Data(lines(250, seed: 4).utf8))
        #expect(bulk.status == 0, "\(bulk.stderr)")
        #expect(bulk.stdout.contains("\"safetySnapshot\""))
        #expect(try cli.run(["count", "c"]).stdout == "250\n")
        let invalidFirst = #"{"vector":[1,2]}"# + "\n" + lines(250, seed: 5)
        let failed = try cli.run(["import", "c", "-", "--bulk-import-threshold", "100"], input: Data(invalidFirst.utf8))
        #expect(failed.status == 1)
        #expect(failed.stderr.contains("line 1") && failed.stderr.contains("nothing was imported"))
        let snapshots = try cli.run(["snapshot", "list", "--json"])
        #expect(snapshots.stdout.components(separatedBy: "\"lsn\"").count - 1 == 1, "\(snapshots.stdout)")
    }

    @Test("exit codes do not depend on --json")
    func exitCodesIgnoreFormat() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let file = directory.appending("bad.jsonl")
        try (lines(3, seed: 6) + #"{"vector":[1]}"# + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let text = try cli.run(["import", "c", file, "--dry-run"])
        let json = try cli.run(["import", "c", file, "--dry-run", "--json"])
        #expect(text.status == 1)
        #expect(json.status == 1)
        #expect(json.stdout.contains("\"invalidLines\" : 1"))
    }

    @Test("a directory, a missing file and invalid UTF-8 are clear errors that write nothing")
    func badSources() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let folder = try cli.run(["import", "c", directory.path])
        #expect(folder.status == 1)
        #expect(folder.stderr.contains("is a directory"))
        #expect(!folder.stderr.contains("NSCocoaErrorDomain"))
        let missing = try cli.run(["import", "c", directory.appending("nope.jsonl")])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("nope.jsonl"))
        var bytes = Array(lines(2, seed: 7).utf8)
        bytes += Array(#"{"properties":{},"vector":[1,2,3,4],"id":"00000000-0000-0000-0000-00000000000"#.utf8)
        bytes = Array(#"{"vector":[1,2,3,4],"properties":{},"title":""#.utf8) + [0xC3, 0x28] + Array("\"}\n".utf8) + bytes
        let file = directory.appending("latin1.jsonl")
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let utf8 = try cli.run(["import", "c", file])
        #expect(utf8.status == 1)
        #expect(utf8.stderr.contains("line 1") && utf8.stderr.contains("UTF-8"), "\(utf8.stderr)")
        #expect(try cli.run(["count", "c"]).stdout == "0\n")
    }

    @Test("when an id appears twice the later line wins, whatever the batch size", arguments: [1, 1000])
    func repeatedIDs(batchSize: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let id = "6f1c3f8e-8a4b-4f3e-9a59-0c1d2e3f4a5b"
        let file = directory.appending("twice.jsonl")
        try """
        {"id":"\(id)","properties":{"n":1},"vector":[1,0,0,0]}
        {"id":"\(id)","properties":{"n":2},"vector":[0,1,0,0]}

        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try cli.run(["import", "c", file, "--batch-size", String(batchSize)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try cli.run(["count", "c"]).stdout == "1\n")
        #expect(try cli.run(["get", "c", id]).stdout.contains("\"n\" : 2"))
    }

    @Test("a repeated id that closes a batch with an invalid line reports that line once")
    func repeatedIDAfterInvalidLine() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = try database(directory)
        let id = "6f1c3f8e-8a4b-4f3e-9a59-0c1d2e3f4a5b"
        let file = directory.appending("mixed.jsonl")
        try """
        {"vector":[1,0,0]}
        {"id":"\(id)","properties":{"n":1},"vector":[1,0,0,0]}
        {"id":"\(id)","properties":{"n":2},"vector":[0,1,0,0]}

        """.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try cli.run(["import", "c", file])
        #expect(result.status == 1)
        #expect(result.stderr.components(separatedBy: "import stopped").count == 2, "\(result.stderr)")
        #expect(result.stderr.contains("line 1"))
        #expect(try cli.run(["count", "c"]).stdout == "0\n")
    }
}
