import Foundation

/// Which snapshots the safety-snapshot policy keeps, and why each one is kept.
///
/// Manual snapshots are kept until someone deletes them. Automatic ones are grouped by the kind
/// of operation they were taken before (`SnapshotTrigger.retentionGroup`); each group keeps its
/// newest `keepLast`, none older than `maxAge`. Grouping is what keeps the snapshot taken before
/// a collection was dropped when many bulk imports follow.
struct SnapshotRetention {
    let policy: SafetySnapshotPolicy
    let now: Int64

    struct Decision {
        var keep: Bool
        var reason: String
    }

    /// A decision for every snapshot; those in `held` are kept whatever the policy says.
    func decide(_ snapshots: [SnapshotInfo], held: Set<String>) -> [String: Decision] {
        var decisions: [String: Decision] = [:]
        var groups: [String: [SnapshotInfo]] = [:]
        for snapshot in snapshots {
            if let group = snapshot.trigger.retentionGroup {
                groups[group, default: []].append(snapshot)
            } else if snapshot.trigger == .backup {
                decisions[snapshot.id] = Decision(keep: true, reason: "backup in progress: deleted when it ends")
            } else {
                decisions[snapshot.id] = Decision(keep: true, reason: "manual: kept until deleted")
            }
        }
        for (group, members) in groups {
            let newestFirst = members.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            for (position, snapshot) in newestFirst.enumerated() {
                let expires = snapshot.createdAt + Int64(policy.maxAge * 1000)
                if held.contains(snapshot.id) {
                    decisions[snapshot.id] = Decision(keep: true, reason: "safety (\(group)): held by an operation in progress")
                } else if position >= policy.keepLast {
                    decisions[snapshot.id] = Decision(keep: false, reason: "safety (\(group)): more than the newest \(policy.keepLast) of its kind")
                } else if expires <= now {
                    decisions[snapshot.id] = Decision(keep: false, reason: "safety (\(group)): older than \(Self.duration(policy.maxAge))")
                } else {
                    decisions[snapshot.id] = Decision(keep: true, reason: "safety (\(group)): newest \(position + 1) of up to \(policy.keepLast) of its kind,"
                        + " until \(Self.date(expires))")
                }
            }
        }
        return decisions
    }

    private static func duration(_ seconds: Double) -> String {
        seconds >= 86400 ? "\(Int(seconds / 86400)) days" : "\(Int(seconds / 3600)) hours"
    }

    private static func date(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }
}
