import Foundation

/// Which backups `forget` keeps: restic's `--keep-*` rules, with the same semantics.
///
/// Backups are taken newest first. Each rule has a count and a period (hourly `YYYYMMDDHH`,
/// daily `YYYYMMDD`, weekly ISO year × 100 + ISO week, monthly `YYYYMM`, yearly `YYYY`, all in
/// UTC; `last` gives every backup its own period). A rule with count left keeps a backup whose
/// period differs from the last one the rule kept, and spends one count; the oldest backup
/// counts as a new period for every rule with count left. One backup may spend counts of
/// several rules. `keepWithin` keeps backups newer than the newest minus that many seconds,
/// without spending counts; `keepTags` keeps backups with any of those tags. A backup is kept
/// when any rule keeps it. A policy with no rule keeps everything.
public struct RetentionPolicy: Sendable, Hashable, Codable {
    public var keepLast = 0
    public var keepHourly = 0
    public var keepDaily = 0
    public var keepWeekly = 0
    public var keepMonthly = 0
    public var keepYearly = 0
    /// Seconds before the newest backup within which every backup is kept.
    public var keepWithin: Double = 0
    public var keepTags: [String] = []

    public init(keepLast: Int = 0, keepHourly: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0, keepMonthly: Int = 0,
                keepYearly: Int = 0, keepWithin: Double = 0, keepTags: [String] = []) {
        self.keepLast = keepLast
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
        self.keepYearly = keepYearly
        self.keepWithin = keepWithin
        self.keepTags = keepTags
    }

    /// Whether the policy has no rule (it then keeps every backup).
    public var isEmpty: Bool {
        keepLast == 0 && keepHourly == 0 && keepDaily == 0 && keepWeekly == 0 && keepMonthly == 0 && keepYearly == 0
            && keepWithin == 0 && keepTags.isEmpty
    }

    /// The decision for one backup: kept or not, and the rules that keep it.
    public struct Decision: Sendable, Hashable, Codable {
        public var backup: String
        public var keep: Bool
        public var reasons: [String]
    }

    /// A decision for every backup, newest first.
    public func apply(to backups: [BackupInfo]) -> [Decision] {
        let newestFirst = backups.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
        guard !isEmpty else { return newestFirst.map { Decision(backup: $0.id, keep: true, reasons: ["no policy"]) } }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        func key(_ period: String, _ date: Date, _ position: Int) -> Int {
            let parts = calendar.dateComponents([.year, .month, .day, .hour, .yearForWeekOfYear, .weekOfYear], from: date)
            let (year, month, day, hour) = (parts.year ?? 0, parts.month ?? 0, parts.day ?? 0, parts.hour ?? 0)
            switch period {
            case "last": return position
            case "hourly": return ((year * 100 + month) * 100 + day) * 100 + hour
            case "daily": return (year * 100 + month) * 100 + day
            case "weekly": return (parts.yearForWeekOfYear ?? 0) * 100 + (parts.weekOfYear ?? 0)
            case "monthly": return year * 100 + month
            default: return year
            }
        }
        var rules: [(name: String, count: Int, last: Int?)] = [
            ("last", keepLast, nil), ("hourly", keepHourly, nil), ("daily", keepDaily, nil),
            ("weekly", keepWeekly, nil), ("monthly", keepMonthly, nil), ("yearly", keepYearly, nil),
        ].filter { $0.1 > 0 }
        let newest = newestFirst.first.map { $0.createdAt } ?? 0
        return newestFirst.enumerated().map { position, backup in
            let date = Date(timeIntervalSince1970: Double(backup.createdAt) / 1000)
            var reasons: [String] = []
            for index in rules.indices where rules[index].count > 0 {
                let value = key(rules[index].name, date, position)
                if value != rules[index].last || position == newestFirst.count - 1 {
                    rules[index].last = value
                    rules[index].count -= 1
                    reasons.append(rules[index].name)
                }
            }
            if keepWithin > 0, Double(newest - backup.createdAt) / 1000 < keepWithin { reasons.append("within") }
            if let tag = backup.tags.first(where: keepTags.contains) { reasons.append("tag \(tag)") }
            return Decision(backup: backup.id, keep: !reasons.isEmpty, reasons: reasons)
        }
    }
}

extension Repository {
    /// Deletes the manifests of the backups `policy` does not keep (all of them kept when it
    /// is empty) and returns the decisions; with `dryRun` nothing is deleted. The data the
    /// forgotten backups alone referenced stays until `prune` (run right after with
    /// `prune`, under the same exclusive lock). Deleting a backup never breaks another: each
    /// lists every blob it needs.
    public func forget(_ policy: RetentionPolicy, dryRun: Bool = false, prune: Bool = false,
                       grace: Duration = Repository.defaultPruneGrace, progress: ProgressHandler? = nil) async throws -> ForgetReport {
        try await withLock(exclusive: true, operation: "forget") {
            let decisions = policy.apply(to: try await backups())
            if !dryRun {
                for decision in decisions where !decision.keep { try await backend.delete(BackupManifest.objectName(decision.backup)) }
            }
            return ForgetReport(decisions: decisions, prune: prune ? try await pruneLocked(grace: grace, dryRun: dryRun, progress: progress) : nil)
        }
    }
}

/// What `forget` decided for each backup, and what the prune after it did.
public struct ForgetReport: Codable, Sendable, Hashable {
    public var decisions: [RetentionPolicy.Decision]
    public var prune: PruneReport?
}
