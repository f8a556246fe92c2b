import ArgumentParser
import Cairn
import Foundation

struct CollectionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection",
        abstract: "Create, list, show, configure and drop collections.",
        subcommands: [Create.self, List.self, Show.self, Configure.self, Drop.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a collection.",
            discussion: """
            Example:
              cairn collection create articles --dimensions 384 --metric cosine \\
                --property title:text --property year:int --property lang:keyword --multi-tenant

            Property types: text, keyword, int, float, bool, date, uuid, and arrays of them (text[]). \
            Every property gets an inverted index for filters; add ':noindex' to skip it (notes:text:noindex).

            --source names a file or directory the objects are made from (repeatable): backups \
            store its content with the collection. --ingestion says how vectors are made.

            From a schema another database exported (`cairn export NAME --schema > s.json`):
              cairn collection create --from-schema s.json [NEW_NAME]
            """
        )

        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection name (letters, digits, '_' and '-', starting with a letter).")
        var name: String?
        @Option(help: "The number of dimensions of every vector.")
        var dimensions: Int?
        @Option(help: "Distance metric: cosine, l2 or dot.")
        var metric: String = "cosine"
        @Option(name: .customLong("property"), help: ArgumentHelp("A property as name:type[:noindex]; repeat for more.", valueName: "name:type"))
        var properties: [String] = []
        @Flag(help: "Objects live in named tenants (cairn tenant add).")
        var multiTenant = false
        @Option(help: ArgumentHelp("How vectors are made, as JSON (kept with the schema and in backups).", valueName: "json"))
        var ingestion: String?
        @Option(name: .customLong("m"), help: "HNSW: neighbours per node (more: better recall, more memory).")
        var m = HNSWParameters().M
        @Option(help: "HNSW: beam width while building (more: better graph, slower flushes).")
        var efConstruction = HNSWParameters().efConstruction
        @Option(help: "HNSW: default beam width while searching (more: better recall, slower queries).")
        var efSearch = HNSWParameters().efSearch
        @Option(help: ArgumentHelp("Code vectors in segments as int8 for the graph walk (a quarter of the memory it reads; "
                                   + "the final candidates are re-ranked with the full vectors).", valueName: "int8"))
        var quantization: String?
        @Option(help: ArgumentHelp("A file or directory the objects are made from (repeatable).", valueName: "path"))
        var source: [String] = []
        @Option(help: ArgumentHelp("Create the collection a schema file (cairn export --schema) defines.", valueName: "file"))
        var fromSchema: String?

        func validate() throws {
            if fromSchema != nil {
                guard dimensions == nil, properties.isEmpty, ingestion == nil, source.isEmpty, !multiTenant, quantization == nil else {
                    throw ValidationError("--from-schema takes the whole definition from the file: give no other settings (only a new name)")
                }
                return
            }
            guard name != nil else { throw ValidationError("name the collection (or give --from-schema FILE)") }
            guard let dimensions else { throw ValidationError("--dimensions is required (or give --from-schema FILE)") }
            guard (1...65_536).contains(dimensions) else { throw ValidationError("--dimensions must be between 1 and 65536") }
            guard DistanceMetric(rawValue: metric) != nil else {
                throw ValidationError("unknown metric '\(metric)'; use cosine, l2 or dot")
            }
            if let quantization, VectorQuantization(rawValue: quantization) == nil {
                throw ValidationError("unknown quantization '\(quantization)'; use "
                                      + VectorQuantization.allCases.map(\.rawValue).joined(separator: ", ") + " (or leave it out for full-precision walks)")
            }
            for property in properties { _ = try Create.parseProperty(property) }
            if let ingestion, (try? JSONParser.parse(ingestion)) == nil {
                throw ValidationError("--ingestion must be valid JSON")
            }
        }

        static func parseProperty(_ text: String) throws -> PropertyDefinition {
            let parts = text.split(separator: ":").map(String.init)
            guard parts.count == 2 || (parts.count == 3 && parts[2] == "noindex"),
                  let type = PropertyType(parsing: parts[1]) else {
                throw ValidationError("property '\(text)' must be name:type or name:type:noindex, with type one of "
                    + PropertyType.Scalar.allCases.map(\.rawValue).joined(separator: ", ") + " (or an array like text[])")
            }
            return PropertyDefinition(name: parts[0], type: type, indexed: parts.count == 2)
        }

        func run() async throws {
            let schema: CollectionSchema
            if let fromSchema {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: fromSchema)) } catch {
                    throw ValidationError("cannot read \(fromSchema): \(error.localizedDescription)")
                }
                schema = try SchemaDocument.decode(data, source: fromSchema).schema(named: name)
            } else {
                schema = CollectionSchema(
                    name: name!, dimensions: dimensions!, metric: DistanceMetric(rawValue: metric)!,
                    properties: try properties.map(Create.parseProperty), multiTenant: multiTenant,
                    ingestion: try ingestion.map { try JSONParser.parse($0) },
                    hnsw: HNSWParameters(M: m, efConstruction: efConstruction, efSearch: efSearch),
                    quantization: quantization.flatMap(VectorQuantization.init(rawValue:)), sources: SourcePaths.absolute(source))
            }
            let isNewDatabase = !global.databaseExists
            let created = try await global.perform(.createCollection(schema), as: CollectionSchema.self, creating: true)
            if global.json { Output.json(encodable: created) } else {
                if isNewDatabase { print("created a new database in \(global.dataDirectory)") }
                print("created collection \(created.name) (\(created.dimensions) dimensions, \(created.metric.rawValue)\(created.multiTenant ? ", multi-tenant" : ""))")
                SourcePaths.warnAboutMissing(created.sources ?? [])
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List collections with their object counts.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let rows = try await global.perform(.collections, as: [CollectionListing].self).map { ($0.schema, $0.objects, $0.tenants) }
            if global.json {
                Output.json(.array(rows.map { schema, count, tenants in
                    .object(["name": .string(schema.name), "dimensions": .int(Int64(schema.dimensions)),
                             "metric": .string(schema.metric.rawValue), "multiTenant": .bool(schema.multiTenant),
                             "objects": count.map { .int(Int64($0)) } ?? .null, "tenants": .int(Int64(tenants))])
                }))
            } else if rows.isEmpty {
                print("no collections (create one with: cairn collection create NAME --dimensions N)")
            } else {
                Output.table(["NAME", "DIMENSIONS", "METRIC", "OBJECTS", "TENANTS"], rows.map { schema, count, tenants in
                    [schema.name, String(schema.dimensions), schema.metric.rawValue,
                     count.map(String.init) ?? "per tenant", schema.multiTenant ? String(tenants) : "-"]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a collection's schema.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection name or an alias.") var name: String

        func run() async throws {
            let schema = try await global.perform(.collection(name: name), as: CollectionSchema.self)
            if global.json { return Output.json(encodable: schema) }
            print("collection \(schema.name)")
            print("  dimensions   \(schema.dimensions)")
            print("  metric       \(schema.metric.rawValue)")
            print("  multi-tenant \(schema.multiTenant ? "yes" : "no")")
            print("  hnsw         M=\(schema.hnsw.M) efConstruction=\(schema.hnsw.efConstruction) efSearch=\(schema.hnsw.efSearch)")
            print("  quantization \(schema.quantization?.rawValue ?? "none (walks compare full vectors)")")
            print("  properties")
            for property in schema.properties {
                print("    \(property.name): \(property.type)\(property.indexed ? "" : " (not indexed)")")
            }
            if let ingestion = schema.ingestion {
                let data = (try? JSONEncoder().encode(ingestion)) ?? Data()
                print("  ingestion    \(String(decoding: data, as: UTF8.self))")
            }
            for (index, source) in (schema.sources ?? []).enumerated() {
                print("  \(index == 0 ? "sources     " : "            ") \(source)")
            }
        }
    }

    struct Configure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Change a collection's ingestion configuration, source paths or search settings.",
            discussion: """
            --source (repeatable) replaces the list of files and directories the objects are \
            made from; backups store their content with the collection. --ingestion replaces \
            the JSON that says how vectors are made. --ef-search sets the beam of searches that \
            give no --ef, at once. --quantization int8 codes the vectors of the segments \
            written from then on (each flush and compaction); none stops walks from using codes \
            at once. Each change is logged like any write.
              cairn collection set articles --source ./corpus/articles/ --source ./corpus/extra.jsonl
              cairn collection set articles --ef-search 96 --quantization int8
            """
        )
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection name or an alias.") var name: String
        @Option(help: ArgumentHelp("A file or directory the objects are made from (repeatable; replaces the list).", valueName: "path"))
        var source: [String] = []
        @Flag(help: "Declare no sources.") var noSources = false
        @Option(help: ArgumentHelp("How vectors are made, as JSON (replaces the configuration).", valueName: "json")) var ingestion: String?
        @Flag(help: "Remove the ingestion configuration.") var noIngestion = false
        @Option(help: ArgumentHelp("The beam of searches that give no --ef (1-4096).", valueName: "n")) var efSearch: Int?
        @Option(help: ArgumentHelp("How segments written from now on code vectors for the graph walk.", valueName: "int8|none"))
        var quantization: String?

        private var changesSources: Bool { !source.isEmpty || noSources || ingestion != nil || noIngestion }
        private var changesSearch: Bool { efSearch != nil || quantization != nil }

        func validate() throws {
            guard changesSources || changesSearch else {
                throw ValidationError("nothing to change: give --source, --no-sources, --ingestion, --no-ingestion, --ef-search or --quantization")
            }
            guard source.isEmpty || !noSources, ingestion == nil || !noIngestion else {
                throw ValidationError("--source and --no-sources (or --ingestion and --no-ingestion) contradict each other")
            }
            if let ingestion, (try? JSONParser.parse(ingestion)) == nil { throw ValidationError("--ingestion must be valid JSON") }
            if let efSearch, !(1...4096).contains(efSearch) { throw ValidationError("--ef-search must be between 1 and 4096") }
            if let quantization, quantization != "none", VectorQuantization(rawValue: quantization) == nil {
                throw ValidationError("unknown quantization '\(quantization)'; use \(Self.quantizations)")
            }
        }

        static let quantizations = (VectorQuantization.allCases.map(\.rawValue) + ["none"]).joined(separator: ", ")

        func run() async throws {
            var current = try await global.perform(.collection(name: name), as: CollectionSchema.self)
            var changed: [String] = []
            if changesSources {
                let sources = noSources ? [] : source.isEmpty ? current.sources ?? [] : SourcePaths.absolute(source)
                let configuration = noIngestion ? nil : try ingestion.map { try JSONParser.parse($0) } ?? current.ingestion
                current = try await global.perform(.configureCollection(name: name, ingestion: configuration, sources: sources),
                                                   as: CollectionSchema.self)
                changed.append("\(current.sources?.count ?? 0) source path(s), "
                               + (current.ingestion == nil ? "no ingestion configuration" : "ingestion configuration set"))
            }
            if changesSearch {
                let quantization = self.quantization.map(VectorQuantization.init(rawValue:)) ?? current.quantization
                current = try await global.perform(.tuneCollection(name: name, efSearch: efSearch ?? current.hnsw.efSearch,
                                                                   quantization: quantization),
                                                   as: CollectionSchema.self)
                changed.append("efSearch \(current.hnsw.efSearch), quantization \(current.quantization?.rawValue ?? "none")"
                               + (self.quantization == nil ? "" : " (for segments written from now on)"))
            }
            global.report(encodable: current, "collection \(current.name): " + changed.joined(separator: "; "))
            if changesSources && !global.json { SourcePaths.warnAboutMissing(current.sources ?? []) }
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop a collection with all its tenants, objects and aliases.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The collection name.") var name: String

        func run() async throws {
            _ = try await global.perform(.dropCollection(name: name), as: Bool.self)
            global.report(.object(["dropped": .string(name)]), "dropped collection \(name)")
        }
    }
}
