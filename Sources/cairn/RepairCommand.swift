import ArgumentParser
import Cairn

struct RepairCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Explicit repairs of a damaged data directory (Cairn never makes them by itself).",
        subcommands: [Current.self]
    )

    struct Current: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a manifest the live one when CURRENT is missing or unusable.",
            discussion: """
            Opening refuses a directory whose CURRENT is gone but that still holds a database, and \
            names the newest manifest that passes its checksum. If that is the state you expect, \
            this command makes it current. The directory is checked with that manifest first \
            (segments, WAL chain); when the check fails nothing is written.

            Example: cairn repair current 000042.json
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The manifest file name in <data>/manifests/ (000042.json).") var manifest: String

        func run() async throws {
            let report = try await Database.repairCurrent(at: global.dataDirectory, manifest: manifest, options: global.engineOptions)
            global.report(encodable: report, """
                CURRENT now names manifests/\(manifest.split(separator: "/").last ?? "") (checkpoint LSN \(report.checkpointLSN ?? 0), \
                WAL continuous to LSN \(report.lastLSN ?? 0)); the database opens
                """)
        }
    }
}
