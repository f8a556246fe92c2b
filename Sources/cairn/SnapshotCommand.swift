import ArgumentParser
import Cairn
import Foundation

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Local snapshots: instant, for rollback, clones and safety points — not backups.",
        discussion: """
        A snapshot is the database as of one LSN, kept as hard links to its immutable files under \
        <data>/snapshots/. Taking one pauses writers for a few milliseconds (the WAL rotation) and costs no copy. It \
        lives on the same disk as the database, so it does not protect against losing that disk: \
        use a backup for that.

        Cairn also takes safety snapshots by itself before dropping a collection, removing a \
        tenant, a bulk import and a rollback (keeping the newest 5, none older than 7 days). \
        --no-safety-snapshot skips one.
        """,
        subcommands: [Create.self, List.self, Show.self, Rollback.self, Clone.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a snapshot now.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name to recognise it by (before-migration).") var label: String?

        func run() async throws {
            let snapshot = try await global.withDatabase { db in try await db.createSnapshot(label: label) }
            global.report(encodable: snapshot, """
                snapshot \(snapshot.id)\(snapshot.label.map { " (\($0))" } ?? "") at LSN \(snapshot.lsn): \
                \(snapshot.fileCount) files, \(Output.bytes(snapshot.bytes)) linked in \(String(format: "%.1f", snapshot.creationMilliseconds)) ms \
                (writers paused \(String(format: "%.2f", snapshot.writerPauseMilliseconds)) ms)
                local snapshot on the same disk — not a backup
                """)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots, oldest first, with the space each one holds.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let snapshots = try await global.withDatabase { db in db.snapshots() }
            if global.json { return Output.json(encodable: snapshots) }
            if snapshots.isEmpty { return print("no snapshots (cairn snapshot create takes one)") }
            Output.table(["ID", "LABEL", "CREATED", "LSN", "SHARED", "EXCLUSIVE", "KIND"], snapshots.map { usage in
                let snapshot = usage.snapshot
                return [snapshot.id, snapshot.label ?? "-", Output.date(milliseconds: snapshot.createdAt), String(snapshot.lsn),
                        Output.bytes(usage.sharedBytes), Output.bytes(usage.exclusiveBytes),
                        snapshot.trigger.isAutomatic ? "safety, local — not a backup" : "local — not a backup"]
            })
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let usage = try await global.withDatabase { db in try db.snapshot(id) }
            if global.json { return Output.json(encodable: usage) }
            let snapshot = usage.snapshot
            let trigger: String
            switch snapshot.trigger {
            case .manual: trigger = "manual"
            case let .safety(operation): trigger = "automatic, before \(operation)"
            }
            let rows: [(String, String)] = [
                ("id", snapshot.id), ("label", snapshot.label ?? "-"), ("taken", trigger),
                ("created", Output.date(milliseconds: snapshot.createdAt)), ("LSN", String(snapshot.lsn)),
                ("files", String(snapshot.fileCount)), ("bytes", Output.bytes(snapshot.bytes)),
                ("shared", Output.bytes(usage.sharedBytes)), ("exclusive", "\(Output.bytes(usage.exclusiveBytes)) (freed by delete)"),
                ("creation", String(format: "%.1f ms, writers paused %.2f ms", snapshot.creationMilliseconds, snapshot.writerPauseMilliseconds)),
                ("kind", "local snapshot on the same disk — not a backup"),
            ]
            for (name, value) in rows { print(name.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return the database to a snapshot (every layer). A safety snapshot is taken first.",
            discussion: "Needs the database closed (no other process using it). Undo with a rollback to the safety snapshot it prints.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let report = try await Database.rollback(at: global.dataDirectory, to: id, options: global.engineOptions)
            let undo = report.safetySnapshot.map { "; to undo: cairn snapshot rollback \($0.id)" } ?? ""
            global.report(encodable: report, "rolled back to \(report.snapshot.id) (LSN \(report.snapshot.lsn)) in \(String(format: "%.0f", report.milliseconds)) ms\(undo)")
        }
    }

    struct Clone: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an independent database from a snapshot (a quick test environment).",
            discussion: "Files are hard-linked when the target is on the same file system, copied otherwise.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String
        @Argument(help: "A new (or empty) directory for the clone.") var target: String

        func run() async throws {
            let snapshot = try await Database.clone(snapshot: id, of: global.dataDirectory, to: target)
            global.report(.object(["snapshot": .string(snapshot.id), "target": .string(target), "lsn": .int(Int64(snapshot.lsn))]),
                          "cloned snapshot \(snapshot.id) (LSN \(snapshot.lsn)) into \(target); open it with --data \(target)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a snapshot (frees the files nothing else links to).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let freed = try await global.withDatabase { db in
                let usage = try db.snapshot(id)
                try db.deleteSnapshot(id)
                return usage.exclusiveBytes
            }
            global.report(.object(["deleted": .string(id), "freedBytes": .int(Int64(freed))]), "deleted snapshot \(id) (freed \(Output.bytes(freed)))")
        }
    }
}
