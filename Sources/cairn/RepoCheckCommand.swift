import ArgumentParser
import Cairn
import Foundation

extension RepoCommand {
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the repository: its structure, and with --read-data every stored byte.",
            discussion: """
            Without --read-data, checks that every object a backup needs exists with a plausible size. \
            --read-data also reads, decrypts and verifies every pack; --read-data=10% reads a random \
            tenth of them (a nightly check that covers the repository over days). Exits 1 when \
            something is damaged or missing; each problem names the object and the backups it affects.
            """
        )
        @OptionGroup var global: GlobalOptions
        @OptionGroup var repository: RepositoryOptions
        @Flag(help: "Also read, decrypt and verify every pack (reads the whole repository); --read-data=10% reads a random share.")
        var readData = false
        @Option(help: .hidden) var readDataSubset: String?

        func validate() throws {
            if let readDataSubset, Self.share(readDataSubset) == nil {
                throw ValidationError("--read-data= takes a percentage above 0 and at most 100, like 10%; got \(readDataSubset)")
            }
        }

        /// 0.1 for `10%`.
        static func share(_ text: String) -> Double? {
            guard text.hasSuffix("%"), let percent = Double(text.dropLast()), percent > 0, percent <= 100 else { return nil }
            return percent / 100
        }

        func run() async throws {
            let readData = readData || readDataSubset != nil
            let bar = ProgressBar("check", unit: "packs", json: global.json)
            let report = try await repository.open().check(readData: readData, subset: readDataSubset.flatMap(Self.share) ?? 1,
                                                           progress: bar.handler)
            bar.finish()
            let read = readData ? "; \(report.packsRead) packs read (\(Output.bytes(report.bytesRead)))" : ""
            let findings = report.problems.isEmpty ? "no problems found" : report.problems.map { "DAMAGED \($0)" }.joined(separator: "\n")
            global.report(encodable: report, "\(report.backups) backups, \(report.packs) packs, \(report.blobs) blobs checked\(read)\n\(findings)")
            if !report.problems.isEmpty { throw ExitCode(1) }
        }
    }
}
