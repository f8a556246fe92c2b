import ArgumentParser
import Cairn
import Foundation

extension BackupCommand {
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one backup: every layer it holds and its files.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions
        @Argument(help: "The backup id (cairn backup list), or latest.") var backup: String

        func run() async throws {
            let source = try await repository.open()
            let details = try await source.backupDetails(try await source.backupID(backup))
            if global.json { return Output.json(encodable: details) }
            let info = details.info, catalog = details.catalog
            Output.table(["FIELD", "VALUE"], [
                ["id", info.id], ["created", Output.date(milliseconds: info.createdAt)], ["LSN", String(info.lsn)],
                ["database", info.databaseID], ["scope", info.scope.map(ScopeOptions.describe) ?? "the whole database"], ["tags", info.tags.isEmpty ? "-" : info.tags.joined(separator: ", ")],
                ["files", "\(info.statistics.files) (\(Output.bytes(info.statistics.bytes))), \(info.statistics.filesReused) reused"],
                ["added", Output.bytes(info.statistics.bytesAdded)],
                ["collections", catalog.collections.keys.sorted().map { name in
                    let schema = catalog.collections[name]!
                    return "\(name) (\(schema.dimensions)-d \(schema.metric)\(schema.ingestion == nil ? "" : ", ingestion configuration"))"
                }.joined(separator: "; ")],
                ["aliases", catalog.aliases.isEmpty ? "-" : catalog.aliases.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", ")],
                ["access", "\(catalog.roles.count) roles, \(catalog.users.count) users"],
            ])
            print("")
            Output.table(["COLLECTION", "TENANT", "OBJECTS", "DIMENSIONS"], info.summary.map {
                [$0.collection, $0.tenant, $0.objects.map(String.init) ?? "inactive", String($0.dimensions)]
            })
            print("")
            Output.table(["FILE", "SIZE", "BLOBS"], details.files.map { [$0.path, Output.bytes($0.size), String($0.blobs)] })
        }
    }
}
