import ArgumentParser
import Cairn
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
                  let bytes = Self.hex(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw CommandFailure(message: "cannot read the key file \(keyFile) (it should hold the hex digits `cairn` wrote)")
            }
            return .keyFile(bytes)
        }
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw CommandFailure(message: "cannot read the password file \(passwordFile)")
            }
            return .password(String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""))
        }
        if let password = ProcessInfo.processInfo.environment["CAIRN_PASSWORD"] { return .password(password) }
        throw CommandFailure(message: "no key for the repository: set CAIRN_PASSWORD, or pass --password-file FILE or --key-file FILE")
    }

    /// Opens the repository.
    func open() async throws -> Repository {
        try await Repository.open(Repository.localBackend(at: repo), credential: try credential())
    }

    private static func hex(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count >= 32, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
