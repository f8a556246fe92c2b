import ArgumentParser
import Cairn
import Foundation

extension RepoCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the repository: its structure, and with --read-data every stored byte.",
            discussion: "Exits 1 when something is damaged or missing; each problem names the object and the backups it affects."
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Also read, decrypt and verify every pack (reads the whole repository).") var readData = false

        func run() async throws {
            let report = try await repository.open().check(readData: readData)
            let read = readData ? "; \(report.packsRead) packs read (\(Output.bytes(report.bytesRead)))" : ""
            let findings = report.problems.isEmpty ? "no problems found" : report.problems.map { "DAMAGED \($0)" }.joined(separator: "\n")
            global.report(encodable: report, "\(report.backups) backups, \(report.packs) packs, \(report.blobs) blobs checked\(read)\n\(findings)")
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
