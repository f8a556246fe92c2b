@testable import CairnBackup
@testable import CairnEngine
import Foundation
import Testing

@Suite("Retention (restic's --keep-* semantics)")
struct RetentionPolicyTests {
    /// Backups at `times` (seconds since the epoch), ids in order.
    private func backups(_ times: [Double], tags: [Int: [String]] = [:]) -> [BackupInfo] {
        times.enumerated().map { index, time in
            let manifest = BackupManifest(id: String(format: "b%04ld", index), createdAt: Int64(time * 1000), tags: tags[index] ?? [],
                                          engineVersion: "t", manifest: Manifest(databaseID: "d", sequence: 1, checkpointLSN: 0, walStartSequence: 1,
                                                                                  catalog: Catalog(), segments: [], writtenAt: 0),
                                          catalog: nil, lsn: 0, walFiles: [], files: [], summary: [], statistics: BackupStatistics())
            return BackupInfo(manifest)
        }
    }

    /// 2025-01-01T12:00:00Z plus `days`.
    private func noon(_ days: Int) -> Double { 1_735_732_800 + Double(days) * 86_400 }

    @Test("the conformance vector: 400 daily backups, keep-daily 7, keep-weekly 5, keep-monthly 12 keep exactly 20")
    func conformanceVector() {
        let decisions = RetentionPolicy(keepDaily: 7, keepWeekly: 5, keepMonthly: 12).apply(to: backups((0..<400).map(noon)))
        #expect(decisions.filter(\.keep).count == 20)
        #expect(decisions.first?.keep == true && decisions.first?.reasons == ["daily", "weekly", "monthly"])
    }

    @Test("an empty policy keeps everything; keep-last keeps the newest; the oldest counts as a new period")
    func basics() {
        let list = backups((0..<10).map(noon))
        #expect(RetentionPolicy().apply(to: list).allSatisfy { $0.keep })
        #expect(RetentionPolicy(keepLast: 3).apply(to: list).filter(\.keep).map(\.backup) == ["b0009", "b0008", "b0007"])
        // Ten days in one month: keep-monthly 2 keeps the newest and, as a new period, the oldest.
        #expect(RetentionPolicy(keepMonthly: 2).apply(to: list).filter(\.keep).map(\.backup) == ["b0009", "b0000"])
        // Several backups a day: keep-daily keeps the newest of each day.
        let twiceADay = backups([noon(0), noon(0) + 3600, noon(1), noon(1) + 3600, noon(2), noon(2) + 3600])
        #expect(RetentionPolicy(keepDaily: 2).apply(to: twiceADay).filter(\.keep).map(\.backup) == ["b0005", "b0003"])
    }

    @Test("keep-within and tags keep without spending counts")
    func withinAndTags() {
        let list = backups((0..<10).map(noon), tags: [2: ["pinned"]])
        let decisions = RetentionPolicy(keepLast: 1, keepWithin: 2.5 * 86_400, keepTags: ["pinned"]).apply(to: list)
        #expect(decisions.filter(\.keep).map(\.backup) == ["b0009", "b0008", "b0007", "b0002"])
        #expect(decisions.first { $0.backup == "b0002" }?.reasons == ["tag pinned"])
    }
}
