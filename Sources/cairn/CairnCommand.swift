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

        Exit status: 0 on success, 1 when the operation fails, 2 when the command line is wrong.
        """,
        subcommands: [
            CollectionCommand.self, TenantCommand.self, ImportCommand.self, PutCommand.self, GetCommand.self,
            DeleteCommand.self, SearchCommand.self, CountCommand.self, AliasCommand.self, AccessCommand.self,
            SnapshotCommand.self, StorageSnapshotCommand.self, VerifyCommand.self, RepairCommand.self, StatsCommand.self, FlushCommand.self,
        ]
    )

    /// Runs the command line, mapping failures to exit codes: 1 for operations, 2 for usage.
    static func main() async {
        do {
            var command = try parseAsRoot(GlobalOptions.movingLeadingOptions(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CairnError {
            Output.error(error.description)
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch let error as CommandFailure {
            Output.error(error.message)
            Foundation.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

/// A failure the CLI itself reports (not an engine error).
struct CommandFailure: Error {
    let message: String
}
