import CairnTestSupport
import Foundation
import Testing

@Suite("Backup commands")
struct BackupCLITests {
    @Test("repo init, backup create, backup list, restore latest: the restored database answers with the same objects")
    func backupAndRestore() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let password = directory.appending("password")
        try "correct horse\n".write(toFile: password, atomically: true, encoding: .utf8)
        let repo = ["--repo", directory.appending("repo"), "--password-file", password]
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 120, dimensions: 8, seed: 3)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", file]).status == 0)

        let created = try cli.run(["repo", "init"] + repo, passingData: false)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try cli.run(["repo", "init"] + repo, passingData: false).status == 1, "a second init is refused")
        let backup = try cli.run(["backup", "create", "--tag", "nightly"] + repo)
        #expect(backup.status == 0, "\(backup.stderr)")
        let listed = try cli.run(["backup", "list", "--json"] + repo, passingData: false)
        #expect(listed.status == 0 && listed.stdout.contains("nightly"), "\(listed.stdout)\(listed.stderr)")

        let shown = try cli.run(["backup", "show", "latest"] + repo, passingData: false)
        #expect(shown.status == 0 && shown.stdout.contains("articles") && shown.stdout.contains("nightly"), "\(shown.stdout)\(shown.stderr)")
        let checked = try cli.run(["repo", "check", "--read-data"] + repo, passingData: false)
        #expect(checked.status == 0 && checked.stdout.contains("no problems found"), "\(checked.stdout)\(checked.stderr)")

        try "wrong\n".write(toFile: directory.appending("wrong"), atomically: true, encoding: .utf8)
        let wrong = try cli.run(["backup", "list", "--repo", directory.appending("repo"), "--password-file", directory.appending("wrong")], passingData: false)
        #expect(wrong.status == 1 && wrong.stderr.contains("nothing was changed"), "\(wrong.stderr)")
        let noKey = try cli.run(["backup", "list", "--repo", directory.appending("repo")], passingData: false)
        #expect(noKey.status == 1 && noKey.stderr.contains("CAIRN_PASSWORD"), "\(noKey.stderr)")

        let restored = try cli.run(["restore", "latest", "--target", directory.appending("restored")] + repo, passingData: false)
        #expect(restored.status == 0 && restored.stdout.contains("120 objects"), "\(restored.stdout)\(restored.stderr)")
        let count = try CLIRunner(dataDirectory: directory.appending("restored")).run(["count", "articles"])
        #expect(count.status == 0 && count.stdout.contains("120"), "\(count.stdout)\(count.stderr)")
        let again = try cli.run(["restore", "latest", "--target", directory.appending("restored")] + repo, passingData: false)
        #expect(again.status == 1, "a non-empty target is refused")

        #expect(try cli.run(["backup", "create"] + repo).status == 0)
        #expect(try cli.run(["forget", "--keep-within", "2x"] + repo, passingData: false).status == 2)
        let dry = try cli.run(["forget", "--keep-last", "1", "--dry-run"] + repo, passingData: false)
        #expect(dry.status == 0 && dry.stdout.contains("1 kept, 1 would be removed"), "\(dry.stdout)\(dry.stderr)")
        let forgot = try cli.run(["forget", "--keep-last", "1", "--json"] + repo, passingData: false)
        #expect(forgot.status == 0, "\(forgot.stderr)")
        let remaining = try cli.run(["backup", "list", "--json"] + repo, passingData: false)
        #expect(!remaining.stdout.contains("nightly"), "the older backup (tagged nightly) was forgotten: \(remaining.stdout)")
        #expect(try cli.run(["restore", "latest", "--target", directory.appending("restored-2")] + repo, passingData: false).status == 0)

        // Keys: a key file added, then the password replaced by another one.
        let keyFile = directory.appending("repo.key")
        #expect(try cli.run(["repo", "key", "add", "--new-key-file", keyFile] + repo, passingData: false).status == 0)
        let withFile = try cli.run(["backup", "list", "--repo", directory.appending("repo"), "--key-file", keyFile], passingData: false)
        #expect(withFile.status == 0, "\(withFile.stderr)")
        try "staple battery\n".write(toFile: directory.appending("new-password"), atomically: true, encoding: .utf8)
        let changed = try cli.run(["repo", "key", "passwd", "--new-password-file", directory.appending("new-password")] + repo, passingData: false)
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(try cli.run(["backup", "list"] + repo, passingData: false).status == 1, "the old password no longer opens")
        let listed2 = try cli.run(["repo", "key", "list", "--repo", directory.appending("repo"), "--password-file", directory.appending("new-password")],
                                  passingData: false)
        #expect(listed2.status == 0 && listed2.stdout.contains("keyFile") && listed2.stdout.contains("in use"), "\(listed2.stdout)")
    }

    @Test("backup create --collection --tenant and restore --collection --tenant --rename-tenant: one tenant, under a new name")
    func partialBackupAndRenamedRestore() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let password = directory.appending("password")
        try "pw\n".write(toFile: password, atomically: true, encoding: .utf8)
        let repo = ["--repo", directory.appending("repo"), "--password-file", password]
        #expect(try cli.run(["collection", "create", "docs", "--dimensions", "8", "--multi-tenant", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        for (index, tenant) in ["acme", "globex"].enumerated() {
            #expect(try cli.run(["tenant", "add", "docs", tenant]).status == 0)
            let file = directory.appending("\(tenant).jsonl")
            try SampleData.jsonl(SampleData.objects(count: 40 + index * 10, dimensions: 8, seed: UInt64(index + 5)))
                .write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try cli.run(["import", "docs", file, "--tenant", tenant]).status == 0)
        }
        #expect(try cli.run(["repo", "init"] + repo, passingData: false).status == 0)
        let backup = try cli.run(["backup", "create", "--collection", "docs", "--tenant", "acme"] + repo)
        #expect(backup.status == 0 && backup.stdout.contains("of docs/acme"), "\(backup.stdout)\(backup.stderr)")
        let listed = try cli.run(["backup", "list"] + repo, passingData: false)
        #expect(listed.stdout.contains("docs/acme"), "\(listed.stdout)")
        let bad = try cli.run(["backup", "create", "--tenant", "acme"] + repo)
        #expect(bad.status != 0 && bad.stderr.contains("exactly one collection"), "\(bad.stderr)")

        let target = directory.appending("restored")
        let restored = try cli.run(["restore", "latest", "--target", target, "--collection", "docs", "--tenant", "acme",
                                    "--rename-tenant", "acme=acme_before"] + repo, passingData: false)
        #expect(restored.status == 0 && restored.stdout.contains("40 objects"), "\(restored.stdout)\(restored.stderr)")
        let count = try CLIRunner(dataDirectory: target).run(["count", "docs", "--tenant", "acme_before"])
        #expect(count.status == 0 && count.stdout.contains("40"), "\(count.stdout)\(count.stderr)")
        let missing = try cli.run(["restore", "latest", "--target", directory.appending("other"), "--collection", "docs",
                                   "--tenant", "globex"] + repo, passingData: false)
        #expect(missing.status == 1 && missing.stderr.contains("globex"), "the partial backup holds no globex: \(missing.stderr)")
        let over = try cli.run(["restore", "latest", "--over", directory.appending("data"), "--collection", "docs"] + repo, passingData: false)
        #expect(over.status != 0 && over.stderr.contains("--over replaces a whole database"), "\(over.stderr)")
    }

    @Test("restore --over replaces a database after a safety snapshot that undoes it; prune, forget --prune, check --read-data=10%, repo unlock")
    func restoreOverAndPrune() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let repo = ["--repo", directory.appending("repo")]
        let environment = ["CAIRN_PASSWORD": "pw"]
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                            "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 100, dimensions: 8, seed: 4)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", file]).status == 0)
        #expect(try cli.run(["repo", "init"] + repo, environment: environment, passingData: false).status == 0)
        #expect(try cli.run(["backup", "create"] + repo, environment: environment).status == 0)
        let more = directory.appending("more.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 30, dimensions: 8, seed: 5)).write(toFile: more, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", more]).status == 0)
        #expect(try cli.run(["flush"]).status == 0)

        let both = try cli.run(["restore", "latest", "--target", directory.appending("x"), "--over", directory.appending("data")] + repo,
                               environment: environment, passingData: false)
        #expect(both.status == 2, "exactly one of --target and --over")
        let over = try cli.run(["restore", "latest", "--over", directory.appending("data"), "--json"] + repo, environment: environment, passingData: false)
        #expect(over.status == 0, "\(over.stdout)\(over.stderr)")
        #expect(try cli.run(["count", "articles"]).stdout.contains("100"), "the database is back at the backup")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(over.stdout.utf8)) as? [String: Any])
        let safety = try #require(report["safetySnapshot"] as? String)
        #expect(try cli.run(["snapshot", "rollback", safety]).status == 0)
        #expect(try cli.run(["count", "articles"]).stdout.contains("130"), "the safety snapshot undoes the restore")
        #expect(!FileManager.default.fileExists(atPath: directory.appending(".data.restoring")), "the staging directory is gone")

        #expect(try cli.run(["backup", "create"] + repo, environment: environment).status == 0)
        let partial = try cli.run(["repo", "check", "--read-data=50%"] + repo, environment: environment, passingData: false)
        #expect(partial.status == 0 && partial.stdout.contains("packs read"), "\(partial.stdout)\(partial.stderr)")
        #expect(try cli.run(["repo", "check", "--read-data=0%"] + repo, environment: environment, passingData: false).status == 2)
        let forgot = try cli.run(["forget", "--keep-last", "1", "--prune", "--grace", "0m"] + repo, environment: environment, passingData: false)
        #expect(forgot.status == 0 && forgot.stdout.contains("freed"), "\(forgot.stdout)\(forgot.stderr)")
        let pruned = try cli.run(["prune", "--grace", "0m"] + repo, environment: environment, passingData: false)
        #expect(pruned.status == 0 && pruned.stdout.contains("deleted 0"), "\(pruned.stdout)\(pruned.stderr)")
        let locks = try cli.run(["repo", "unlock", "--list"] + repo, environment: environment, passingData: false)
        #expect(locks.status == 0 && locks.stdout.contains("no locks"), "every command released its lock: \(locks.stdout)")
        #expect(try cli.run(["restore", "latest", "--target", directory.appending("final")] + repo, environment: environment, passingData: false).status == 0)
    }

    @Test("SIGKILL at each step of a prune: every kept backup restores, the repository checks clean, the next prune finishes",
          arguments: ["prune-repacked", "prune-index-written", "prune-old-index-deleted"])
    func killedPrune(point: String) throws {
        let directory = TemporaryDirectory("cairn-prunecrash")
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        let repo = ["--repo", directory.appending("repo")]
        let environment = ["CAIRN_PASSWORD": "pw"]
        let properties = ["--dimensions", "8", "--property", "title:text", "--property", "year:int", "--property", "lang:keyword"]
        // A collection every backup needs, flushed with the first round's: the older packs are
        // then partly needed, so the prune repacks (and deletes the old packs).
        #expect(try cli.run(["collection", "create", "kept"] + properties).status == 0)
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 200, dimensions: 8, seed: 8)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "kept", file]).status == 0)
        #expect(try cli.run(["repo", "init"] + repo, environment: environment, passingData: false).status == 0)
        for round in 0..<3 {
            let rows = directory.appending("round\(round).jsonl")
            try SampleData.jsonl(SampleData.objects(count: 2000, dimensions: 8, seed: UInt64(20 + round)))
                .write(toFile: rows, atomically: true, encoding: .utf8)
            #expect(try cli.run(["collection", "create", "r\(round)"] + properties).status == 0)
            #expect(try cli.run(["import", "r\(round)", rows]).status == 0)
            #expect(try cli.run(["flush"]).status == 0)
            if round > 0 { #expect(try cli.run(["collection", "drop", "r\(round - 1)", "--no-safety-snapshot"]).status == 0) }
            #expect(try cli.run(["backup", "create"] + repo, environment: environment).status == 0)
        }
        #expect(try cli.run(["forget", "--keep-last", "1"] + repo, environment: environment, passingData: false).status == 0)
        let dry = try cli.run(["prune", "--grace", "0m", "--dry-run", "--json"] + repo, environment: environment, passingData: false)
        let planned = try #require(try JSONSerialization.jsonObject(with: Data(dry.stdout.utf8)) as? [String: Any])
        #expect((planned["packsRepacked"] as? Int ?? 0) > 0, "\(dry.stdout)")

        var killedEnvironment = environment
        killedEnvironment["CAIRN_CRASH_AT"] = point
        let process = try cli.start(["prune", "--grace", "0m"] + repo, environment: killedEnvironment)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the prune was killed at \(point)")

        let restored = try cli.run(["restore", "latest", "--target", directory.appending("restored")] + repo, environment: environment, passingData: false)
        #expect(restored.status == 0 && restored.stdout.contains("2200 objects"), "\(restored.stdout)\(restored.stderr)")
        #expect(try cli.run(["prune", "--grace", "0m"] + repo, environment: environment, passingData: false).status == 0,
                "the killed prune's lock belongs to a process that is gone: it blocks nothing")
        let checked = try cli.run(["repo", "check", "--read-data"] + repo, environment: environment, passingData: false)
        #expect(checked.status == 0 && checked.stdout.contains("no problems found"), "\(checked.stdout)\(checked.stderr)")
        let again = try cli.run(["prune", "--grace", "0m", "--json"] + repo, environment: environment, passingData: false)
        #expect(again.stdout.contains("\"packsDeleted\" : 0") && again.stdout.contains("\"packsRepacked\" : 0"), "nothing left to do: \(again.stdout)")
        #expect(try cli.run(["restore", "latest", "--target", directory.appending("restored-again")] + repo,
                            environment: environment, passingData: false).status == 0)
    }
}

@Suite("Relative paths")
struct RelativePathTests {
    @Test("bare relative names for the data directory, the repository and the restore target work")
    func bareNames() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: "data")
        try "pw\n".write(toFile: directory.appending("pw"), atomically: true, encoding: .utf8)
        let here = directory.path
        let created = try cli.run(["collection", "create", "c", "--dimensions", "2"], workingDirectory: here)
        #expect(created.status == 0, "\(created.stderr)")
        let repo = ["--repo", "repo", "--password-file", "pw"]
        #expect(try cli.run(["repo", "init"] + repo, passingData: false, workingDirectory: here).status == 0)
        #expect(try cli.run(["backup", "create"] + repo, workingDirectory: here).status == 0)
        let restored = try cli.run(["restore", "latest", "--target", "copy"] + repo, passingData: false, workingDirectory: here)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(FileManager.default.fileExists(atPath: directory.appending("copy/CURRENT")))
    }
}

@Suite("Backups killed with SIGKILL")
struct BackupCrashTests {
    @Test("SIGKILL at each step of a backup: the database opens whole without the recovery point, the repository checks clean, the next backup restores",
          arguments: [("backup-point-taken", false), ("backup-data-written", false), ("backup-manifest-written", true)])
    func killedBackup(point: String, listed: Bool) throws {
        let directory = TemporaryDirectory("cairn-backupcrash")
        defer { directory.remove() }
        let cli = CLIRunner(dataDirectory: directory.appending("data"))
        try "pw\n".write(toFile: directory.appending("pw"), atomically: true, encoding: .utf8)
        let repo = ["--repo", directory.appending("repo"), "--password-file", directory.appending("pw")]
        #expect(try cli.run(["collection", "create", "articles", "--dimensions", "8", "--property", "title:text",
                             "--property", "year:int", "--property", "lang:keyword"]).status == 0)
        let file = directory.appending("data.jsonl")
        try SampleData.jsonl(SampleData.objects(count: 300, dimensions: 8, seed: 5)).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try cli.run(["import", "articles", file]).status == 0)
        #expect(try cli.run(["flush"]).status == 0)
        #expect(try cli.run(["repo", "init"] + repo, passingData: false).status == 0)
        #expect(try cli.run(["backup", "create"] + repo).status == 0)

        let process = try cli.start(["backup", "create", "--tag", "killed"] + repo, environment: ["CAIRN_CRASH_AT": point])
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the backup was killed at \(point)")

        let snapshots = try cli.run(["snapshot", "list", "--json"])
        #expect(snapshots.status == 0 && !snapshots.stdout.contains("\"backup\""), "the recovery point is removed at open: \(snapshots.stdout)")
        #expect(try cli.run(["count", "articles"]).stdout.contains("300"))
        let checked = try cli.run(["repo", "check", "--read-data"] + repo, passingData: false)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        let backups = try cli.run(["backup", "list", "--json"] + repo, passingData: false)
        #expect(backups.stdout.contains("killed") == listed, "a backup exists if and only if its manifest was written: \(backups.stdout)")
        #expect(try cli.run(["backup", "create"] + repo).status == 0)
        let restored = try cli.run(["restore", "latest", "--target", directory.appending("restored")] + repo, passingData: false)
        #expect(restored.status == 0 && restored.stdout.contains("300 objects"), "\(restored.stdout)\(restored.stderr)")
    }
}
