import ArgumentParser
import Cairn
import Foundation

struct StorageSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage-snapshot",
        abstract: "Make a snapshot by an outside tool (LVM, ZFS, btrfs, cloud volume, cp -r, rsync) safe.",
        discussion: """
        begin checkpoints, seals the WAL, holds compaction and every file deletion, and writes a \
        label (storage-snapshot.json) naming the start LSN and the files a copy must contain. \
        Writers keep going. Take the copy, then run end. A copy taken in between always opens \
        and holds every write acknowledged before begin; check one with cairn verify DIR.

        The window survives this process: any cairn that opens the directory honours it until \
        end, or until the timeout (default 1 hour) releases it with a warning.

        A copy on the same disk or volume is a snapshot, not a backup.
        """,
        subcommands: [Begin.self, End.self]
    )

    struct Begin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open the window: checkpoint, seal the WAL, hold file deletion, write the label.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name for the copy (nightly-lvm).") var label: String
        @Option(help: "Seconds after which the window closes by itself.") var timeout: Double = 3600

        func run() async throws {
            let window = try await global.perform(.beginStorageSnapshot(label: label, timeout: timeout), as: StorageSnapshotLabel.self)
            global.report(encodable: window, """
                storage-snapshot window '\(window.label)' open at LSN \(window.startLSN) \
                (writers paused \(String(format: "%.2f", window.writerPauseMilliseconds)) ms); \(window.files.count) files held
                copy the data directory now, then: cairn storage-snapshot end
                """)
        }
    }

    struct End: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close the window: record the end LSN, release the hold.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let window = try await global.perform(.endStorageSnapshot, as: StorageSnapshotLabel.self)
            global.report(encodable: window, "storage-snapshot window '\(window.label)' closed: LSN \(window.startLSN) to \(window.endLSN ?? window.startLSN)")
        }
    }
}

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a data directory that is not open (a copy): manifest, checksums, WAL continuity, label.",
        discussion: """
        Opens nothing for writing. Reads every segment the manifest lists (size and CRC32C), \
        every WAL file after the checkpoint (records and LSNs without gaps, a torn tail allowed \
        only at the very end), and the storage-snapshot label if the copy has one. Each problem \
        is named with its file and offset.

        Exit status: 0 when the copy is consistent and opens as a database; 1 when it is damaged \
        (it will not open); 3 when it opens but with a warning, such as a torn WAL tail a crash \
        left (the unacknowledged write in it is moved aside on open). A directory another \
        process holds open is checked as it is at that moment, which is said too: copy a live \
        database inside a storage-snapshot window.
        """
    )
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The directory to check (default: the data directory).") var directory: String?

    func run() async throws {
        let report = await Database.verify(at: directory ?? global.dataDirectory, options: global.engineOptions)
        if global.json {
            Output.json(encodable: report)
        } else {
            let rate = report.seconds > 0 ? Double(report.checkedBytes) / report.seconds / 1e9 : 0
            print("checked \(report.checkedFiles) files, \(Output.bytes(report.checkedBytes)) in \(String(format: "%.2f", report.seconds)) s (\(String(format: "%.2f", rate)) GB/s)")
            if let checkpoint = report.checkpointLSN { print("checkpoint LSN \(checkpoint), WAL continuous to LSN \(report.lastLSN ?? checkpoint)") }
            if let label = report.label { print("storage-snapshot label '\(label.label)': start LSN \(label.startLSN)") }
            for problem in report.problems { print("problem: \(problem)") }
            for warning in report.warnings { print("warning: \(warning)") }
            if report.heldOpen {
                print("note: a process holds this directory open: this is the state of a live database at one moment, not a copy")
            }
            print(report.isConsistent ? "verdict: consistent — opens as a database" : "verdict: NOT consistent (\(report.problems.count) problems)")
        }
        if !report.isConsistent { throw ExitCode(1) }
        if !report.warnings.isEmpty { throw ExitCode(3) }
    }
}
