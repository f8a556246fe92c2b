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
        tenant, a bulk import and a rollback, and keeps the newest 5 of each kind of operation, \
        none older than 7 days (a run of imports never evicts the snapshot taken before a drop). \
        One taken for an operation that then failed is deleted at once. --no-safety-snapshot \
        skips one. `snapshot list` says why each snapshot is kept and flags damaged ones; \
        `snapshot verify` reads every byte of one.
        """,
        subcommands: [Create.self, List.self, Show.self, Verify.self, Rollback.self, Clone.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a snapshot now.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name to recognise it by (before-migration).") var label: String?

        func run() async throws {
            let snapshot = try await global.perform(.createSnapshot(label: label), as: SnapshotInfo.self)
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
            let snapshots = try await global.perform(.snapshots, as: [SnapshotUsage].self)
            if global.json { return Output.json(encodable: snapshots) }
            if snapshots.isEmpty { return print("no snapshots (cairn snapshot create takes one)") }
            Output.table(["ID", "LABEL", "CREATED", "LSN", "SHARED", "EXCLUSIVE", "STATE", "KEPT BECAUSE"], snapshots.map { usage in
                let snapshot = usage.snapshot
                return [snapshot.id, Output.printable(snapshot.label ?? "-"), snapshot.createdAt == 0 ? "?" : Output.date(milliseconds: snapshot.createdAt),
                        String(snapshot.lsn), Output.bytes(usage.sharedBytes), Output.bytes(usage.exclusiveBytes),
                        usage.problems.isEmpty ? "ok" : "DAMAGED", usage.retention]
            })
            for usage in snapshots where !usage.problems.isEmpty {
                print("damaged \(usage.snapshot.id): \(usage.problems.prefix(3).joined(separator: "; "))")
            }
            print("snapshots are local, on the same disk as the database — not backups")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let usage = try await global.perform(.snapshot(id: id), as: SnapshotUsage.self)
            if global.json { return Output.json(encodable: usage) }
            let snapshot = usage.snapshot
            let trigger: String
            switch snapshot.trigger {
            case .manual: trigger = "manual"
            case .backup: trigger = "for a backup in progress"
            case let .safety(operation): trigger = "automatic, before \(Output.printable(operation))"
            }
            let rows: [(String, String)] = [
                ("id", snapshot.id), ("label", Output.printable(snapshot.label ?? "-")), ("taken", trigger),
                ("created", Output.date(milliseconds: snapshot.createdAt)), ("LSN", String(snapshot.lsn)),
                ("files", String(snapshot.fileCount)), ("bytes", Output.bytes(snapshot.bytes)),
                ("shared", Output.bytes(usage.sharedBytes)), ("exclusive", "\(Output.bytes(usage.exclusiveBytes)) (freed by delete)"),
                ("creation", String(format: "%.1f ms, writers paused %.2f ms", snapshot.creationMilliseconds, snapshot.writerPauseMilliseconds)),
                ("kept", usage.retention),
                ("state", usage.problems.isEmpty ? "files present (cairn snapshot verify reads them)" : "DAMAGED: " + usage.problems.joined(separator: "; ")),
                ("kind", "local snapshot on the same disk — not a backup"),
            ]
            for (name, value) in rows { print(name.padding(toLength: 11, withPad: " ", startingAt: 0) + value) }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read every byte of a snapshot: segment checksums, the WAL chain up to its LSN.",
            discussion: "Exit status 0 when the snapshot can be rolled back to or cloned, 1 when it is damaged (each problem named).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let report = try await global.withDatabase { db in try await db.verifySnapshot(id) }
            if global.json { Output.json(encodable: report) } else {
                for problem in report.problems { print("problem: \(problem)") }
                print(report.isConsistent
                      ? "snapshot \(id): \(report.checkedFiles) files, \(Output.bytes(report.checkedBytes)) read, WAL to LSN \(report.lastLSN ?? 0): whole"
                      : "snapshot \(id) is DAMAGED (\(report.problems.count) problems): rollback and clone refuse it")
            }
            if !report.isConsistent { throw ExitCode(1) }
        }
    }

    struct Rollback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Return the database to a snapshot (every layer). A safety snapshot is taken first.",
            discussion: """
            Needs the database closed (no other process using it). The snapshot is read completely \
            first; a damaged one, or one of another database, is refused and nothing changes. Undo \
            with a rollback to the safety snapshot it prints. It also works when the database itself \
            does not open: its files are then kept in a snapshot as they were.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let report = try await Database.rollback(at: global.dataDirectory, to: id, options: global.engineOptions)
            if let warning = report.warning { Output.note("warning: \(warning)\n") }
            let undo = report.safetySnapshot.map { "; to undo: cairn snapshot rollback \($0.id)" } ?? ""
            global.report(encodable: report, "rolled back to \(report.snapshot.id) (LSN \(report.snapshot.lsn)) in \(String(format: "%.0f", report.milliseconds)) ms\(undo)")
        }
    }

    struct Clone: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an independent database from a snapshot (a quick test environment).",
            discussion: """
            Files are hard-linked when the target is on the same file system, copied otherwise. The \
            target must be outside the data directory; the snapshot is read completely first.
            """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String
        @Argument(help: "A new (or empty) directory for the clone.") var target: String

        func run() async throws {
            let snapshot = try await Database.clone(snapshot: id, of: global.dataDirectory, to: target, options: global.engineOptions)
            global.report(.object(["snapshot": .string(snapshot.id), "target": .string(target), "lsn": .int(Int64(snapshot.lsn))]),
                          "cloned snapshot \(snapshot.id) (LSN \(snapshot.lsn)) into \(target); open it with --data \(target)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a snapshot (frees the files nothing else links to).")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The snapshot id (cairn snapshot list).") var id: String

        func run() async throws {
            let freed = try await global.perform(.deleteSnapshot(id: id), as: Int.self)
            global.report(.object(["deleted": .string(id), "freedBytes": .int(Int64(freed))]), "deleted snapshot \(id) (freed \(Output.bytes(freed)))")
        }
    }
}
