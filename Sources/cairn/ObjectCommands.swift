import ArgumentParser
import Cairn
import Foundation

struct PutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put",
        abstract: "Write one object given as JSON: {\"id\":…, \"properties\":{…}, \"vector\":[…]}."
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Argument(help: "The object as JSON.") var object: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?

    func run() async throws {
        let id = try await global.withDatabase { db -> UUID in
            guard let json = try? JSONParser.parse(object) else {
                throw CairnError.invalidArgument("the object is not valid JSON")
            }
            let new = try ObjectJSON.object(from: json, schema: try db.collection(named: collection))
            try await db.put(new, into: collection, tenant: tenant)
            return new.id
        }
        global.report(.object(["id": .string(Output.uuid(id))]), "put \(Output.uuid(id))")
    }
}

struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Print an object by id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Argument(help: "The object's id.") var id: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?

    func validate() throws {
        guard UUID(uuidString: id) != nil else { throw ValidationError("'\(id)' is not a UUID") }
    }

    func run() async throws {
        let object = try await global.perform(.get(collection: collection, tenant: tenant, id: UUID(uuidString: id)!), as: StoredObject?.self)
        guard let object else { throw CommandFailure(message: "no object \(id.lowercased()) in \(collection)") }
        Output.json(ObjectJSON.json(of: object))
    }
}

struct DeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete objects by id.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Argument(help: "The ids to delete.") var ids: [String]
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?

    func validate() throws {
        guard !ids.isEmpty else { throw ValidationError("name at least one id") }
        if let bad = ids.first(where: { UUID(uuidString: $0) == nil }) { throw ValidationError("'\(bad)' is not a UUID") }
    }

    func run() async throws {
        let requested = ids.map { UUID(uuidString: $0)! }
        let outcome = try await global.perform(.delete(collection: collection, tenant: tenant, ids: requested), as: DeleteOutcome.self)
        let (deleted, missing) = (outcome.deleted, outcome.notFound)
        var text = "deleted \(deleted.count) object\(deleted.count == 1 ? "" : "s")"
        if !missing.isEmpty { text += "; no object with id \(missing.map(Output.uuid).joined(separator: ", "))" }
        global.report(.object(["deleted": .array(deleted.map { .string(Output.uuid($0)) }),
                               "notFound": .array(missing.map { .string(Output.uuid($0)) })]), text)
        if !missing.isEmpty { throw ExitCode(1) }
    }
}

struct CountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "count", abstract: "Count objects, optionally matching a filter.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?
    @Option(help: "A filter, e.g. 'year >= 2020 and lang = \"en\"'.") var filter: String?

    func run() async throws {
        let count = try await global.perform(.count(collection: collection, tenant: tenant, filter: filter), as: Int.self)
        global.report(.object(["count": .int(Int64(count))]), count)
    }
}
