import ArgumentParser
import Cairn
import CairnBackup
import Foundation

/// Where a backup repository is and what opens it.
struct RepositoryOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The repository: a directory on another disk or a mounted volume.", valueName: "path"))
    var repo: String

    @Option(help: ArgumentHelp("Read the password from this file (its first line) instead of $CAIRN_PASSWORD.", valueName: "file"))
    var passwordFile: String?

    @Option(help: ArgumentHelp("Open with a key file instead of a password.", valueName: "file"))
    var keyFile: String?

    /// The credential given, or a failure that says how to give one. There is no default key.
    func credential() throws -> RepositoryCredential {
        if let keyFile {
            guard let text = try? String(contentsOfFile: keyFile, encoding: .utf8),
                  let bytes = Hex.decode(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count >= 16 else {
                throw CommandFailure(message: "cannot read the key file \(keyFile) (it should hold the hex digits `cairn` wrote)")
            }
            return .keyFile(bytes)
        }
        if let passwordFile { return try Self.password(from: passwordFile) }
        if let password = ProcessInfo.processInfo.environment["CAIRN_PASSWORD"] { return .password(password) }
        throw CommandFailure(message: "no key for the repository: set CAIRN_PASSWORD, or pass --password-file FILE or --key-file FILE")
    }

    /// Opens the repository.
    func open() async throws -> Repository {
        var repository = try await Repository.open(Repository.localBackend(at: repo), credential: try credential())
        repository.reachedStep = GlobalOptions.crashPoint
        return repository
    }

    /// The password in the first line of `file`.
    static func password(from file: String) throws -> RepositoryCredential {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw CommandFailure(message: "cannot read the password file \(file)")
        }
        return .password(String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
    }
}
