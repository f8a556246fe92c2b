import ArgumentParser
import Cairn
import CairnBackup
import Foundation

extension RepoCommand {
    struct Key: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The repository's keys: add, list, remove, change a password.",
            discussion: """
            Every key slot wraps the same master key, so adding or removing a key never rewrites \
            the backups. The new password comes from --new-password-file, or a new key file is \
            written with --new-key-file (32 random bytes, hex). The last key is never removed.
            """,
            subcommands: [Add.self, List.self, Remove.self, Passwd.self]
        )

        /// The credential for a new key slot.
        struct NewKeyOptions: ParsableArguments {
            @Option(help: ArgumentHelp("Read the new password from this file (its first line).", valueName: "file"))
            var newPasswordFile: String?
            @Option(help: ArgumentHelp("Write a new random key file here (it must not exist).", valueName: "file"))
            var newKeyFile: String?

            func validate() throws {
                guard (newPasswordFile == nil) != (newKeyFile == nil) else {
                    throw ValidationError("give exactly one of --new-password-file and --new-key-file")
                }
            }

            func credential() throws -> RepositoryCredential {
                if let newPasswordFile { return try RepositoryOptions.password(from: newPasswordFile) }
                let path = newKeyFile!
                guard !FileManager.default.fileExists(atPath: path) else { throw CommandFailure(message: "\(path) exists; a new key file is never written over another file") }
                var generator = SystemRandomNumberGenerator()
                let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let hex = Hex.encode(bytes) + "\n"
                guard FileManager.default.createFile(atPath: path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600]) else {
                    throw CommandFailure(message: "cannot write the key file \(path)")
                }
                return .keyFile(bytes)
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a key (another password or a key file).")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var repository: RepositoryOptions
            @OptionGroup var newKey: NewKeyOptions

            func run() async throws {
                let id = try await repository.open().addKey(try newKey.credential())
                global.report(encodable: ["id": id], "key \(id) added")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the keys.")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var repository: RepositoryOptions

            func run() async throws {
                let keys = try await repository.open().keys()
                if global.json { return Output.json(encodable: keys) }
                Output.table(["ID", "KIND", "CREATED", "HOST", ""], keys.map {
                    [$0.id, $0.kind, Output.date(milliseconds: $0.createdAt), $0.hostname, $0.isCurrent ? "in use" : ""]
                })
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Remove a key (not the last one, nor the one in use).")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var repository: RepositoryOptions
            @Argument(help: "The key id (repo key list).") var id: String

            func run() async throws {
                try await repository.open().removeKey(id)
                global.report(encodable: ["removed": id], "key \(id) removed")
            }
        }

        struct Passwd: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Replace the key in use by a new one (add the new key, then remove the old).")
            @OptionGroup var global: GlobalOptions
            @OptionGroup var repository: RepositoryOptions
            @OptionGroup var newKey: NewKeyOptions

            func run() async throws {
                let opened = try await repository.open()
                let old = try await opened.keys().first(where: \.isCurrent)!.id
                let id = try await opened.addKey(try newKey.credential())
                try await opened.removeKey(old, allowCurrent: true)
                global.report(encodable: ["id": id, "removed": old], "key \(id) added, key \(old) removed")
            }
        }
    }
}
