import ArgumentParser
import Cairn
import Foundation

@main
struct CairnCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn",
        abstract: "A vector database whose data can always be recovered.",
        discussion: """
        Every command works on the data directory given by --data (default ./cairn-data, or \
        $CAIRN_DATA). Add --json to any command for output a script can read.

        Exit status: 0 on success, 1 when the operation fails (the message says what and where), \
        2 when the command line is wrong (an unknown command or option, a value out of range). \
        With --json, a failure is also a JSON object on standard error: {"error": {"kind", "message"}}.
        """,
        version: Database.version,
        subcommands: [
            CollectionCommand.self, TenantCommand.self, ImportCommand.self, PutCommand.self, GetCommand.self,
            DeleteCommand.self, ExportCommand.self, SearchCommand.self, CountCommand.self, AliasCommand.self, AccessCommand.self,
            SnapshotCommand.self, StorageSnapshotCommand.self, RepoCommand.self, BackupCommand.self, RestoreCommand.self, ForgetCommand.self, PruneCommand.self,
            VerifyCommand.self, RepairCommand.self, StatsCommand.self, FlushCommand.self,
        ]
    )

    /// Runs the command line, mapping failures to exit codes: 1 for operations, 2 for usage.
    static func main() async {
        // `--read-data=10%` (an optional value, which the parser has no form for) becomes a hidden option.
        let arguments = GlobalOptions.movingLeadingOptions(Array(CommandLine.arguments.dropFirst())).flatMap { argument in
            argument.hasPrefix("--read-data=") ? ["--read-data-subset", String(argument.dropFirst("--read-data=".count))] : [argument]
        }
        let wantsJSON = arguments.contains("--json")
        if let unknown = unknownHelpTopic(arguments) {
            Output.failure("no command '\(unknown)' (cairn --help lists them)", kind: "usage", json: wantsJSON)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CairnError {
            Output.failure(ErrorAdvice.message(for: error), kind: error.kind, json: wantsJSON)
            Foundation.exit(1)
        } catch let error as RepositoryError {
            Output.failure(error.description, kind: "repository", json: wantsJSON)
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as ControlError {
            Output.failure(error.message, kind: error.kind, json: wantsJSON)
            Foundation.exit(1)
        } catch let error as CommandFailure {
            Output.failure(error.message, kind: "failed", json: wantsJSON)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if wantsJSON { Output.failure(message(for: error), kind: "usage", json: true) }
            else { FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8)) }
            Foundation.exit(2)
        }
    }

    /// The first word of `cairn help WORDS…` that names no command, if any.
    private static func unknownHelpTopic(_ arguments: [String]) -> String? {
        guard arguments.first == "help" else { return nil }
        var commands = configuration.subcommands
        for word in arguments.dropFirst().prefix(while: { !$0.hasPrefix("-") }) {
            guard let command = commands.first(where: { $0._commandName == word }) else { return word }
            commands = command.configuration.subcommands
        }
        return nil
    }
}

/// A failure the CLI itself reports (not an engine error).
struct CommandFailure: Error {
    let message: String
}
