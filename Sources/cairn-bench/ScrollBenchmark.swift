import ArgumentParser
import Cairn
import Foundation

/// Pages through a whole collection with `scroll`, as an export does.
struct ScrollBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scroll",
        abstract: "Page through a collection of an existing data directory and report objects per second.",
        discussion: "Example: cairn-bench scroll --data /tmp/cairn-bench-backup/db --collection articles --limit 1000"
    )

    @Option(help: "The data directory.") var data: String
    @Option(help: "The collection.") var collection = "articles"
    @Option(help: "Objects per page.") var limit = 1000

    func run() async throws {
        let db = try await Database.open(at: data)
        let started = ContinuousClock.now
        var cursor: UUID?
        var objects = 0, pages = 0
        while true {
            let page = try db.scroll(collection, after: cursor, limit: limit)
            guard let last = page.last else { break }
            objects += page.count
            pages += 1
            cursor = last.id
        }
        let seconds = (ContinuousClock.now - started).milliseconds / 1000
        print("\(objects) objects in \(pages) pages of \(limit): \(String(format: "%.2f", seconds)) s, \(Int(Double(objects) / seconds)) objects/s")
        await db.close()
    }
}
