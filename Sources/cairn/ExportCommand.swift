import ArgumentParser
import Cairn
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a collection's (or one tenant's) objects as JSONL that `cairn import` reads back.",
        discussion: """
        One object per line, {"id", "properties", "vector"}, in id order, vectors exactly as \
        stored. The objects are read a page at a time while the database stays open for writes; \
        an object written during the export may or may not be in it. The count goes to standard \
        error, so standard output holds only the objects. Example: \
        cairn export articles --tenant acme > acme.jsonl && cairn import articles_copy acme.jsonl
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?

    func run() async throws {
        let exported = try await global.withDatabase { db -> Int in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            var buffer = Data()
            var cursor: UUID?
            var count = 0
            while true {
                let page = try db.scroll(collection, tenant: tenant, after: cursor, limit: 1000)
                guard let last = page.last else { break }
                for object in page {
                    buffer.append(try encoder.encode(ObjectJSON.importable(object)))
                    buffer.append(0x0A)
                }
                if buffer.count >= 1 << 20 {
                    FileHandle.standardOutput.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
                count += page.count
                cursor = last.id
            }
            FileHandle.standardOutput.write(buffer)
            return count
        }
        Output.note("exported \(exported) objects from \(collection)\(tenant.map { "/\($0)" } ?? "")\n")
    }
}
