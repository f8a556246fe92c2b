import ArgumentParser
import Cairn
import CairnTestSupport
import Foundation

/// Writes the seeded sample data set as JSONL, plus a query vector, for the quickstart and demos.
struct GenerateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write seeded sample articles as JSONL (title, year, lang, vector) and a query vector."
    )

    @Option(help: "Number of objects.") var count = 10_000
    @Option(help: "Vector dimensions.") var dimensions = 128
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "The JSONL file to write.") var out: String
    @Option(help: "Also write one query vector (JSON array) here: a perturbed copy of object 0's vector.") var query: String?

    func run() throws {
        let objects = SampleData.objects(count: count, dimensions: dimensions, seed: seed)
        try SampleData.jsonl(objects).write(toFile: out, atomically: true, encoding: .utf8)
        if let query {
            var generator = SeededGenerator(seed: seed &+ 1)
            let vector = objects[0].vector.map { $0 + generator.nextFloat() * 0.05 }
            try ("[" + vector.map { String($0) }.joined(separator: ",") + "]\n").write(toFile: query, atomically: true, encoding: .utf8)
        }
        print("wrote \(count) objects (\(dimensions) dimensions) to \(out)\(query.map { " and a query to \($0)" } ?? "")")
    }
}
