import ArgumentParser
import Cairn
import CairnBackup
import Foundation

struct RepoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repo",
        abstract: "Backup repositories: encrypted, deduplicated, outside the database's failure domain.",
        discussion: """
        A repository holds backups: protected copies that restore after the original disk or \
        machine is gone. Put it on another disk or a mounted volume. Everything in it is \
        compressed (zstd) and encrypted (AES-256-GCM) under a random master key, which key slots \
        wrap with a password (scrypt) or a key file. There is no default key: without the \
        password or key file the backups cannot be read by anyone, you included.
        """,
        subcommands: [Init.self, Check.self, Key.self, Unlock.self, Copy.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a repository in an empty place.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            let created = try await Repository.initialize(Repository.localBackend(at: repository.repo), credential: try repository.credential())
            global.report(encodable: ["id": created.id, "repository": repository.repo],
                          "repository \(created.id) created at \(repository.repo)\nkeep the password or key file safe: without it the backups cannot be read")
        }
    }
}

extension RepoCommand {
    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove stale locks (or list locks).",
            discussion: """
            Backups, restores and checks hold shared locks, forget and prune an exclusive one; a \
            holder refreshes its lock every 5 minutes. A lock not refreshed for 30 minutes, or \
            whose process on this host is gone, is stale: it no longer blocks anything, and \
            unlock removes it. --all removes live locks too: only when you know no other process \
            uses the repository.
            """
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Only list the locks.") var list = false
        @Flag(help: "Remove every lock, live ones included.") var all = false

        func run() async throws {
            let opened = try await repository.open()
            if list {
                let locks = try await opened.locks()
                if global.json { return Output.json(encodable: locks.map(\.info)) }
                if locks.isEmpty { return print("no locks") }
                return Output.table(["OPERATION", "MODE", "HOST", "PID", "REFRESHED", "STATE"], locks.map { lock, stale in
                    [lock.operation, lock.exclusive ? "exclusive" : "shared", lock.host, String(lock.pid),
                     Output.date(milliseconds: lock.refreshed), stale ? "stale" : "live"]
                })
            }
            let removed = try await opened.unlock(all: all)
            global.report(encodable: removed, "removed \(removed.count) \(all ? "" : "stale ")lock\(removed.count == 1 ? "" : "s")")
        }
    }
}

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Back up the database into a repository, and list backups.",
        discussion: """
        A backup is taken from a recovery point while writers keep writing. Files the \
        repository already holds are not read again, so a backup after a small change is small \
        and fast. Restore with `cairn restore`.

        --collection (repeatable) backs up only those collections; --tenant (repeatable, with \
        one --collection) only those tenants. A partial backup is self-contained: it carries \
        the schemas, tenants and their states, the aliases of its collections, and all of \
        access control.
        """,
        subcommands: [Create.self, List.self, Show.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Back up the database now.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions
        @Option(help: "A tag to find the backup by (repeatable).") var tag: [String] = []
        @OptionGroup var scope: ScopeOptions

        func validate() throws { try scope.scope().validate() }

        func run() async throws {
            let target = try await repository.open()
            let bar = ProgressBar("backup", json: global.json)
            let backup: BackupInfo
            do {
                backup = try await global.withDatabase { db in
                    try await db.backup(to: target, scope: try scope.scope(), tags: tag, progress: bar.handler)
                }
            } catch CairnError.databaseLocked {
                // Another process holds the database: it takes the backup and reports its progress here.
                backup = try RemoteDatabase(directory: global.dataDirectory).call(
                    .backup(repository: URL(fileURLWithPath: repository.repo).standardizedFileURL.path, credential: try repository.credential(), scope: try scope.scope(), tags: tag),
                    progress: bar.handler)
            }
            bar.finish()
            let stats = backup.statistics
            let covering = backup.scope.map { " of \(ScopeOptions.describe($0))" } ?? ""
            global.report(encodable: backup, """
                backup \(backup.id)\(covering) at LSN \(backup.lsn): \(stats.files) files, \(Output.bytes(stats.bytes)); \
                \(stats.filesReused) reused without reading, \(Output.bytes(stats.bytesAdded)) added to the repository \
                in \(String(format: "%.1f", stats.seconds)) s
                """ + (stats.sourceFiles == 0 ? "" : """

                sources: \(stats.sourceFiles) files, \(Output.bytes(stats.sourceBytes)); \(stats.sourceFilesReused) unchanged (not read again)
                """))
            for problem in backup.sourceProblems { Output.note("warning: \(problem) (recorded in the backup)\n") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the repository's backups, oldest first.")
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions

        func run() async throws {
            let backups = try await repository.open().backups()
            if global.json { return Output.json(encodable: backups) }
            if backups.isEmpty { return print("no backups (cairn backup create --repo \(repository.repo) takes one)") }
            Output.table(["ID", "CREATED", "LSN", "SCOPE", "OBJECTS", "SIZE", "ADDED", "TAGS"], backups.map { backup in
                [backup.id, Output.date(milliseconds: backup.createdAt), String(backup.lsn), backup.scope.map(ScopeOptions.describe) ?? "all",
                 String(backup.summary.compactMap(\.objects).reduce(0, +)), Output.bytes(backup.statistics.bytes),
                 Output.bytes(backup.statistics.bytesAdded), backup.tags.joined(separator: ",")]
            })
        }
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new directory, or over a database, and prove it.",
        discussion: """
        Every byte is checked as it arrives, the database is opened and compared with what the \
        backup recorded before success is reported: per collection and tenant, the object count, \
        the content fingerprint (an order-independent hash of every object's id, vector and \
        properties, recomputed row by row) and golden queries (exact nearest neighbours).

        --target DIR: a new database (DIR must not exist or be empty) with a new database id.
        --over DIR: replaces the database in DIR (not open elsewhere). The backup is restored and \
        proven next to it first, then switched in by a rollback: a safety snapshot keeps the \
        state before (`cairn snapshot rollback <id>` undoes the restore), and the switch is one \
        atomic step. The database keeps its id.

        Part of a backup: --collection (repeatable) restores only those collections, --tenant \
        (repeatable, with one --collection) only those tenants; --rename old=new gives a \
        collection a new name, --rename-tenant old=new a tenant. Aliases and role permissions \
        follow a renamed collection; the output says what changed. Only the files of what is \
        restored are fetched, and it is proven under its new names.

        --into DIR --collection C [--tenant T] [--as NEW] [--replace]: restores one collection, \
        or one tenant of it, into the database in DIR while it keeps serving everything else \
        (through the control socket when another process holds it). It is restored and proven \
        in a staging directory inside DIR, then appears in one atomic step; a crash leaves no \
        trace of it or all of it. A tenant joins the live collection C. What it would be named \
        must not exist: give another name with --as, or replace it with --replace (a safety \
        snapshot is taken first; a replaced collection keeps its aliases).
        """
    )
    @OptionGroup var global: GlobalOptions
    @OptionGroup var repository: RepositoryOptions
    @Argument(help: "The backup id (cairn backup list), or latest.") var backup: String
    @Option(help: ArgumentHelp("A new data directory to restore into.", valueName: "dir")) var target: String?
    @Option(help: ArgumentHelp("A data directory whose database the backup replaces.", valueName: "dir")) var over: String?
    @Option(help: ArgumentHelp("A live database to restore one collection or tenant into.", valueName: "dir")) var into: String?
    @Option(name: .customLong("as"), help: ArgumentHelp("With --into: its name in the live database (default: its own).", valueName: "name"))
    var newName: String?
    @Flag(help: "With --into: replace what has that name (a safety snapshot is taken first).") var replace = false
    @OptionGroup var scope: ScopeOptions
    @Option(help: ArgumentHelp("Restore collection OLD as NEW (repeatable).", valueName: "old=new")) var rename: [String] = []
    @Option(help: ArgumentHelp("Restore tenant OLD as NEW (repeatable; with one --collection).", valueName: "old=new")) var renameTenant: [String] = []

    func validate() throws {
        guard [target, over, into].compactMap({ $0 }).count == 1 else {
            throw ValidationError("give exactly one of --target DIR (a new directory), --over DIR (replace a database) "
                                  + "and --into DIR (restore a collection or tenant into a live database)")
        }
        if into != nil {
            guard scope.collection.count == 1, scope.tenant.count <= 1 else {
                throw ValidationError("--into restores one collection or one tenant: name it with --collection C [--tenant T]")
            }
            guard rename.isEmpty, renameTenant.isEmpty else { throw ValidationError("with --into, give the restored part its name with --as NEW") }
        } else if newName != nil || replace {
            throw ValidationError("--as and --replace go with --into DIR")
        }
        let scope = try restoredScope()
        try scope.validate()
        if over != nil && !scope.isEverything {
            throw ValidationError("--over replaces a whole database: restore part of a backup, or rename, with --target DIR")
        }
    }

    private func restoredScope() throws -> PartitionScope {
        var restored = try scope.scope()
        restored.collectionRenames = try PartitionScope.renames(rename, kind: "collection")
        restored.tenantRenames = try PartitionScope.renames(renameTenant, kind: "tenant")
        return restored
    }

    func run() async throws {
        let source = try await repository.open()
        let id = try await source.backupID(backup)
        let bar = ProgressBar("restore", json: global.json)
        defer { bar.finish() }
        if let into { return try await restoreLive(id, from: source, into: into, bar: bar) }
        if let over {
            let replaced = try await source.restore(id, over: over, progress: bar.handler)
            bar.finish()
            let undo = replaced.safetySnapshot.map { "\nthe state before is snapshot \($0): `cairn snapshot rollback \($0)` undoes this restore" } ?? ""
            let warning = replaced.warning.map { "\nnote: \($0)" } ?? ""
            return global.report(encodable: replaced, Self.describe(replaced.restore, into: "over \(replaced.directory)") + undo + warning)
        }
        let report = try await source.restore(id, to: target!, scope: try restoredScope(), progress: bar.handler)
        bar.finish()
        let notes = (report.sourceFiles == 0 ? "" : "\nsources: \(report.sourceFiles) files under \(report.target)/sources/")
            + report.notes.map { "\nnote: \($0)" }.joined()
        global.report(encodable: report, Self.describe(report, into: "into \(report.target)") + notes)
    }

    /// `--into`: a collection or one tenant into a live database, here or through the process that holds it.
    private func restoreLive(_ id: String, from source: Repository, into directory: String, bar: ProgressBar) async throws {
        var live = global
        live.data = directory
        let (collection, tenant) = (scope.collection[0], scope.tenant.first)
        let report: LiveRestoreReport
        do {
            report = try await live.withDatabase { db in
                try await db.restore(collection, tenant: tenant, from: source, backup: id, as: newName, replacing: replace, progress: bar.handler)
            }
        } catch CairnError.databaseLocked {
            report = try RemoteDatabase(directory: directory).call(.restoreInto(
                repository: URL(fileURLWithPath: repository.repo).standardizedFileURL.path, credential: try repository.credential(),
                backup: id, collection: collection, tenant: tenant, name: newName, replacing: replace), progress: bar.handler)
        }
        bar.finish()
        let what = report.tenant.map { "tenant \($0) of \(report.collection)" } ?? "collection \(report.collection)"
        let undo = report.safetySnapshot.map { "\nthe state before is snapshot \($0): `cairn snapshot rollback \($0)` undoes this restore" } ?? ""
        global.report(encodable: report, Self.describe(report.restore, into: "into \(directory)")
            + "\n\(report.replaced ? "replaced" : "attached") \(what) at LSN \(report.lsn) "
            + "in \(String(format: "%.1f", report.seconds)) s in all" + undo)
    }

    static func describe(_ report: RestoreReport, into place: String) -> String {
        """
        restored \(report.scope.map { ScopeOptions.describe($0) + " of " } ?? "")backup \(report.backup) \(place): \(report.files) files, \(Output.bytes(report.bytes)) in \
        \(String(format: "%.1f", report.seconds)) s
        verified: \(report.objectsVerified) objects in \(report.partitionsVerified) \
        \(report.partitionsVerified == 1 ? "collection or tenant matches" : "collections and tenants match") the backup: \
        counts, \(report.fingerprintsVerified) content fingerprint\(report.fingerprintsVerified == 1 ? "" : "s") (read row by row), \
        \(report.goldenQueriesVerified) golden quer\(report.goldenQueriesVerified == 1 ? "y" : "ies")
        """
    }
}

extension RepoCommand {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy backups into another repository: a second copy elsewhere (3-2-1).",
            discussion: """
            Copies the backups the destination does not hold yet (all, or the ids given). The \
            destination has its own keys: every blob is read, checked, and sealed again; blobs it \
            already holds are not stored twice. Each backup appears in the destination only when \
            whole. The source opens with CAIRN_PASSWORD, --password-file or --key-file; the \
            destination with CAIRN_TO_PASSWORD, --to-password-file or --to-key-file, or else the \
            source's.
            """
        )
        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("The repository to copy from.", valueName: "path")) var from: String
        @Option(help: ArgumentHelp("The repository to copy into (created with `repo init`).", valueName: "path")) var to: String
        @Option(help: ArgumentHelp("The source's password file.", valueName: "file")) var passwordFile: String?
        @Option(help: ArgumentHelp("The source's key file.", valueName: "file")) var keyFile: String?
        @Option(help: ArgumentHelp("The destination's password file.", valueName: "file")) var toPasswordFile: String?
        @Option(help: ArgumentHelp("The destination's key file.", valueName: "file")) var toKeyFile: String?
        @Argument(help: "Backup ids (or latest); none copies every backup.") var backups: [String] = []

        func run() async throws {
            func options(_ repo: String, _ passwordFile: String?, _ keyFile: String?) throws -> RepositoryOptions {
                try RepositoryOptions.parse(["--repo", repo] + (passwordFile.map { ["--password-file", $0] } ?? [])
                                            + (keyFile.map { ["--key-file", $0] } ?? []))
            }
            let source = try await options(from, passwordFile, keyFile).open()
            let destinationOptions = try options(to, toPasswordFile, toKeyFile)
            let destinationCredential: RepositoryCredential
            if toPasswordFile != nil || toKeyFile != nil { destinationCredential = try destinationOptions.credential() }
            else if let password = ProcessInfo.processInfo.environment["CAIRN_TO_PASSWORD"] { destinationCredential = .password(password) }
            else { destinationCredential = try options(from, passwordFile, keyFile).credential() }
            let destination = try await Repository.open(Repository.localBackend(at: to), credential: destinationCredential)
            var ids: [String]?
            if !backups.isEmpty {
                ids = []
                for backup in backups { ids!.append(try await source.backupID(backup)) }
            }
            let bar = ProgressBar("copy", unit: "backups", json: global.json)
            let report = try await source.copy(ids, to: destination, progress: bar.handler)
            bar.finish()
            global.report(encodable: report, """
                copied \(report.copied.count) backups (\(report.alreadyThere.count) already there): \(report.blobsCopied) blobs, \
                \(Output.bytes(report.bytesAdded)) added to \(to) in \(String(format: "%.1f", report.seconds)) s
                """)
        }
    }
}
