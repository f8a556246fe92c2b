import ArgumentParser
import Cairn
import Foundation

struct SearchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find the objects nearest to a query vector.",
        discussion: """
        The query is a JSON array of numbers, given inline (--vector '[0.1, 0.2, …]') or in a \
        file (--vector-file q.json).

        Filters: =, !=, <, <=, >, >=, in [..], and, or, not, parentheses. Strings in double quotes, \
        dates as "2024-01-31" or full ISO 8601. Example:
          --filter 'year >= 2020 and lang in ["en", "de"] and not title = "draft"'
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Option(help: "The query vector as a JSON array.") var vector: String?
    @Option(help: "A file holding the query vector as a JSON array.") var vectorFile: String?
    @Option(help: "How many results.") var limit = 10
    @Option(help: "A filter on indexed properties.") var filter: String?
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?
    @Flag(help: "Include each result's vector in the output.") var withVectors = false
    @Option(help: """
        HNSW beam width for this query (default: the collection's efSearch). With --filter, a \
        given --ef costs about what it costs without a filter, at lower recall: raise it for \
        more. Without --ef, a filtered walk goes on until it has efSearch matching objects.
        """) var ef: Int?

    func validate() throws {
        guard (vector == nil) != (vectorFile == nil) else { throw ValidationError("give exactly one of --vector and --vector-file") }
        guard (1...10_000).contains(limit) else { throw ValidationError("--limit must be between 1 and 10000") }
    }

    func run() async throws {
        let text: String
        if let vector { text = vector } else {
            guard let data = FileManager.default.contents(atPath: vectorFile!) else {
                throw CairnError.io(path: vectorFile!, operation: "read", reason: "cannot read the file")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        guard case let .array(components)? = try? JSONParser.parse(text) else {
            throw CairnError.invalidVector("the query must be a JSON array of numbers")
        }
        let query = try ObjectJSON.vector(from: components)
        let hits = try await global.perform(.search(collection: collection, tenant: tenant, vector: FloatBlock(query), limit: limit, filter: filter, ef: ef, withVectors: withVectors),
                                            as: HitBatch.self).hits
        if global.json {
            Output.json(.array(hits.map { hit in
                var json = ObjectJSON.json(of: hit.object)
                if case var .object(fields) = json {
                    fields["distance"] = .float(hit.distance)
                    if !withVectors { fields["vector"] = nil }
                    json = .object(fields)
                }
                return json
            }))
            return
        }
        if hits.isEmpty { return print("no results") }
        for (rank, hit) in hits.enumerated() {
            let properties = hit.object.properties.keys.sorted().map { "\($0)=\(hit.object.properties[$0]!)" }.joined(separator: " ")
            print("\(rank + 1). \(Output.uuid(hit.object.id))  distance \(String(format: "%.4f", hit.distance))  \(properties)")
        }
    }
}
