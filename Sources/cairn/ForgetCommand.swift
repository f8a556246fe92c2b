import ArgumentParser
import Cairn
import Foundation

struct ForgetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forget",
        abstract: "Remove backups that a retention policy does not keep.",
        discussion: """
        The rules are restic's: backups newest first; each --keep-* rule keeps the newest backup \
        of each of its last N periods (hours, days, ISO weeks, months, years, in UTC; --keep-last \
        counts backups), the oldest backup counting as a new period while a rule has count left. \
        --keep-within keeps every backup younger than the newest minus the duration (30m, 12h, \
        2d, 3w); --keep-tag keeps tagged backups. A backup is kept when any rule keeps it; with no \
        rule at all nothing is removed. Each backup lists every blob it needs, so removing one \
        never breaks another. Try --dry-run first. Forgetting deletes backup manifests only; \
        --prune then deletes the data no kept backup needs (as `cairn prune`).
        """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions
    @Option(help: "Keep the newest N backups.") var keepLast = 0
    @Option(help: "Keep the newest backup of each of the last N hours.") var keepHourly = 0
    @Option(help: "Keep the newest backup of each of the last N days.") var keepDaily = 0
    @Option(help: "Keep the newest backup of each of the last N ISO weeks.") var keepWeekly = 0
    @Option(help: "Keep the newest backup of each of the last N months.") var keepMonthly = 0
    @Option(help: "Keep the newest backup of each of the last N years.") var keepYearly = 0
    @Option(help: ArgumentHelp("Keep every backup within this long of the newest (30m, 12h, 2d, 3w).", valueName: "duration"))
    var keepWithin: String?
    @Option(help: "Keep backups with this tag (repeatable).") var keepTag: [String] = []
    @Flag(help: "Then delete the data no kept backup needs (as cairn prune).") var prune = false
    @Option(help: ArgumentHelp("With --prune: packs younger than this are left alone (30m, 12h, 2d).", valueName: "duration"))
    var grace = "1h"
    @Flag(help: "Show what would be removed; remove nothing.") var dryRun = false

    func validate() throws {
        for (name, value) in [("last", keepLast), ("hourly", keepHourly), ("daily", keepDaily), ("weekly", keepWeekly),
                              ("monthly", keepMonthly), ("yearly", keepYearly)] where value < 0 {
            throw ValidationError("--keep-\(name) must be 0 or more, got \(value)")
        }
        if let keepWithin, Self.seconds(keepWithin) == nil {
            throw ValidationError("--keep-within takes a number and a unit (m, h, d, w), like 2d; got \(keepWithin)")
        }
        if Self.seconds(grace) == nil { throw ValidationError("--grace takes a number and a unit (m, h, d, w), like 1h; got \(grace)") }
    }

    func run() async throws {
        let policy = RetentionPolicy(keepLast: keepLast, keepHourly: keepHourly, keepDaily: keepDaily, keepWeekly: keepWeekly,
                                     keepMonthly: keepMonthly, keepYearly: keepYearly,
                                     keepWithin: keepWithin.flatMap(Self.seconds) ?? 0, keepTags: keepTag)
        let bar = ProgressBar("repack", unit: "blobs", json: global.json)
        let report = try await repository.open().forget(policy, dryRun: dryRun, prune: prune, grace: .seconds(Self.seconds(grace)!),
                                                        progress: bar.handler)
        bar.finish()
        if global.json { return Output.json(encodable: report) }
        let decisions = report.decisions
        Output.table(["ID", "DECISION", "KEPT BY"], decisions.map { [$0.backup, $0.keep ? "keep" : (dryRun ? "would remove" : "removed"), $0.reasons.joined(separator: ", ")] })
        let removed = decisions.filter { !$0.keep }.count
        print("\(decisions.count - removed) kept, \(removed) \(dryRun ? "would be removed (dry run)" : "removed")"
              + (policy.isEmpty ? " — no --keep-* rule was given, so nothing is removed" : ""))
        if let pruned = report.prune { print(PruneCommand.describe(pruned)) }
    }

    /// Seconds in `30m`, `12h`, `2d` or `3w`.
    static func seconds(_ text: String) -> Double? {
        guard let unit = text.last, let value = Double(text.dropLast()), value >= 0 else { return nil }
        switch unit {
        case "m": return value * 60
        case "h": return value * 3600
        case "d": return value * 86_400
        case "w": return value * 7 * 86_400
        default: return nil
        }
    }
}

struct PruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Delete the data in a repository that no backup needs.",
        discussion: """
        Reads every backup's manifest and marks the blobs it names, then deletes packs that hold \
        none of them and repacks packs that are more than 10% unneeded. Packs younger than \
        --grace are left alone, so the data of a backup still being written survives. Runs under \
        an exclusive lock: backups, restores and checks wait for it, and it waits for them. A \
        crash at any point leaves every backup whole; run prune again to finish.
        """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions
    @Option(help: ArgumentHelp("Packs younger than this are left alone (30m, 12h, 2d).", valueName: "duration")) var grace = "1h"
    @Flag(help: "Show what would be deleted; delete nothing.") var dryRun = false

    func validate() throws {
        if ForgetCommand.seconds(grace) == nil { throw ValidationError("--grace takes a number and a unit (m, h, d, w), like 1h; got \(grace)") }
    }

    func run() async throws {
        let bar = ProgressBar("repack", unit: "blobs", json: global.json)
        let report = try await repository.open().prune(grace: .seconds(ForgetCommand.seconds(grace)!), dryRun: dryRun, progress: bar.handler)
        bar.finish()
        global.report(encodable: report, Self.describe(report))
    }

    static func describe(_ report: PruneReport) -> String {
        let verb = report.dryRun ? "would delete" : "deleted"
        return """
            \(report.backups) backups need \(report.blobsUsed) blobs; of \(report.packs) packs (\(Output.bytes(report.bytes))) \
            \(verb) \(report.packsDeleted), \(report.dryRun ? "would repack" : "repacked") \(report.packsRepacked), left \(report.packsInGrace) \
            in their grace period; \(Output.bytes(report.bytesFreed)) freed, \(Output.bytes(report.bytesWritten)) rewritten
            """
    }
}
