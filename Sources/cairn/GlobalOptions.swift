import ArgumentParser
import Cairn
import Foundation

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The data directory (default: $CAIRN_DATA or ./cairn-data).", valueName: "dir"))
    var data: String?

    @Flag(name: .long, help: "Print machine-readable JSON instead of text.")
    var json = false

    @Option(name: .long, help: .hidden)
    var memtableFlushBytes: Int?

    @Option(name: .long, help: .hidden)
    var compactionSegments: Int?

    @Flag(name: .long, help: "Do not take the automatic safety snapshot before a risky operation (drop, remove tenant, bulk import, rollback).")
    var noSafetySnapshot = false

    @Option(name: .long, help: .hidden)
    var bulkImportThreshold: Int?

    /// Lets global options come before the subcommand (`cairn --data DIR stats`) by moving them
    /// after it, where every subcommand declares them.
    static func movingLeadingOptions(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["--data", "--memtable-flush-bytes", "--compaction-segments", "--bulk-import-threshold"]
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if withValue.contains(argument), index + 1 < arguments.count {
                moved += arguments[index...index + 1]
                index += 2
            } else if argument == "--json" || argument == "--no-safety-snapshot" || (withValue.contains(name) && argument.contains("=")) {
                moved.append(argument)
                index += 1
            } else {
                break
            }
        }
        return Array(arguments[index...]) + moved
    }

    /// The data directory this invocation uses.
    var dataDirectory: String {
        data ?? ProcessInfo.processInfo.environment["CAIRN_DATA"] ?? "./cairn-data"
    }

    var engineOptions: EngineOptions {
        var options = EngineOptions()
        // The command prints what happened; the engine's log is for warnings.
        options.logger.logLevel = .warning
        if let memtableFlushBytes { options.memtableFlushBytes = memtableFlushBytes }
        if let compactionSegments { options.compactionSegmentCount = compactionSegments }
        if noSafetySnapshot { options.safetySnapshots.enabled = false }
        if let bulkImportThreshold { options.safetySnapshots.bulkImportObjects = bulkImportThreshold }
        options.reachedStep = Self.crashPoint
        return options
    }

    /// Crash tests stop the CLI with SIGKILL at a named step of a multi-step file operation
    /// (`CAIRN_CRASH_AT=step`); otherwise steps pass unnoticed.
    static let crashPoint: @Sendable (String) -> Void = {
        guard let step = ProcessInfo.processInfo.environment["CAIRN_CRASH_AT"] else { return { _ in } }
        return { name in if name == step { kill(getpid(), SIGKILL) } }
    }()

    /// Prints a command's result: `json` with --json, `text` otherwise.
    func report(_ json: JSONValue, _ text: CustomStringConvertible) {
        if self.json { Output.json(json) } else { print(text) }
    }

    /// Prints a command's result: the value as JSON with --json, `text` otherwise.
    func report<T: Encodable>(encodable value: T, _ text: CustomStringConvertible) {
        if json { Output.json(encodable: value) } else { print(text) }
    }

    /// Whether the data directory holds a database yet.
    var databaseExists: Bool { FileManager.default.fileExists(atPath: dataDirectory + "/CURRENT") }

    /// Carries out `request` on the database and decodes its result: in this process when the
    /// directory is free, or through the control socket of the process that holds it open.
    func perform<T: Decodable>(_ request: ControlRequest, as type: T.Type = T.self, creating: Bool = false) async throws -> T {
        let json: String
        do {
            json = try await withDatabase(creating: creating) { db in try await db.handle(request) }
        } catch CairnError.databaseLocked {
            return try RemoteDatabase(directory: dataDirectory).call(request, as: T.self)
        }
        return try JSONDecoder().decode(T.self, from: Data(json.utf8))
    }

    /// Runs `body` with the database opened here, or, when another process holds it, with that
    /// process reached through its control socket.
    func withImportTarget<T>(_ body: (any ImportTarget) async throws -> T) async throws -> T {
        do {
            return try await withDatabase { db in try await body(db) }
        } catch CairnError.databaseLocked {
            return try await body(try RemoteDatabase(directory: dataDirectory))
        }
    }

    /// Opens the database, runs `body`, and closes it, also when `body` throws. Only commands
    /// that create something pass `creating`: for every other command a directory that holds
    /// no database (a mistyped --data) is an error, not a new empty database.
    func withDatabase<T>(creating: Bool = false, _ body: (Database) async throws -> T) async throws -> T {
        var options = engineOptions
        options.createIfMissing = creating
        let db = try await Database.open(at: dataDirectory, options: options)
        do {
            let result = try await body(db)
            await db.close()
            return result
        } catch {
            await db.close()
            throw error
        }
    }
}
