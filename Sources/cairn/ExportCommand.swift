import ArgumentParser
import Cairn
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a collection's (or one tenant's) objects as JSONL that `cairn import` reads back, or its schema.",
        discussion: """
        One object per line, {"id", "properties", "vector"}, in id order, vectors exactly as \
        stored (the shortest decimal that reads back as the same 32-bit float). The export is \
        consistent: the objects as of the moment it starts, read while writers continue. \
        --with-metadata adds createdAt and updatedAt (an import accepts and ignores them). \
        --filter exports only the objects it allows. The count goes to standard error, so \
        standard output holds only the objects; --output FILE writes a file instead, which \
        appears only when the export is complete.

        --schema prints the collection's definition (properties, metric, index parameters, \
        tenancy, ingestion configuration, sources) as JSON that `cairn collection create \
        --from-schema FILE` reads.

        Example, copying a tenant into another database:
          cairn export articles --schema > articles.schema.json
          cairn export articles --tenant acme --output acme.jsonl
          cairn --data ../other collection create --from-schema articles.schema.json
          cairn --data ../other tenant add articles acme
          cairn --data ../other import articles acme.jsonl --tenant acme
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?
    @Option(help: "Export only objects this filter allows (as in `cairn search --filter`).") var filter: String?
    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file")) var output: String?
    @Flag(help: "Add createdAt and updatedAt to every object.") var withMetadata = false
    @Flag(help: "Print the collection's schema as JSON instead of its objects.") var schema = false

    func validate() throws {
        if schema && (tenant != nil || filter != nil || withMetadata) {
            throw ValidationError("--schema prints the collection's definition: it takes no --tenant, --filter or --with-metadata")
        }
    }

    func run() async throws {
        let sink = try ExportSink(path: output)
        do {
            if schema {
                let document = SchemaDocument(try await global.perform(.collection(name: collection), as: CollectionSchema.self))
                try sink.write([UInt8](try document.encoded()))
                try sink.finish()
                return
            }
            let exported: Int
            do {
                exported = try await global.withDatabase { db -> Int in
                    let export = try db.export(collection, tenant: tenant, filter: try filter.map { try db.parseFilter($0, for: collection) })
                    return try ObjectJSON.writeLines(of: export, withMetadata: withMetadata) { try sink.write($0) }
                }
            } catch CairnError.databaseLocked {
                // Another process holds the database: it exports, streaming the lines here.
                exported = try RemoteDatabase(directory: global.dataDirectory).stream(
                    .export(collection: collection, tenant: tenant, filter: filter, withMetadata: withMetadata), as: Int.self) { try sink.write($0) }
            }
            try sink.finish()
            Output.note("exported \(exported) objects from \(collection)\(tenant.map { "/\($0)" } ?? "")\(output.map { " to \($0)" } ?? "")\n")
        } catch {
            sink.abandon()
            throw error
        }
    }
}

/// Where an export goes: standard output, or a file written under a temporary name and renamed
/// into place when complete (a failed export leaves no partial file).
private final class ExportSink: @unchecked Sendable {
    private let handle: FileHandle
    private let path: String?
    private let temporary: String?

    init(path: String?) throws {
        self.path = path
        guard let path else {
            (handle, temporary) = (FileHandle.standardOutput, nil)
            return
        }
        let temporary = path + ".partial"
        guard FileManager.default.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw CairnError.io(path: temporary, operation: "create", reason: "cannot create the export file")
        }
        (self.handle, self.temporary) = (handle, temporary)
    }

    func write(_ bytes: [UInt8]) throws {
        do { try handle.write(contentsOf: bytes) } catch {
            throw CairnError.io(path: temporary ?? "standard output", operation: "write", reason: "\(error.localizedDescription)")
        }
    }

    func finish() throws {
        guard let path, let temporary else { return }
        try handle.synchronize()
        try handle.close()
        if rename(temporary, path) != 0 {
            throw CairnError.io(path: path, operation: "rename", reason: String(cString: strerror(errno)), errno: errno)
        }
    }

    func abandon() {
        guard let temporary else { return }
        try? handle.close()
        unlink(temporary)
    }
}
