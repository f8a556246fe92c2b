import ArgumentParser
import Cairn
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import objects from a JSONL file in atomic batches.",
        discussion: """
        Each line is one object: {"id": "<uuid>", "properties": {...}, "vector": [...]} (id optional).
        Every batch is validated completely before it is written. At the first invalid line the \
        import stops and says which line and how many objects were already imported; run with \
        --dry-run first to check a whole file without writing anything. When an id appears \
        twice, the later line wins.

        The input is read once, so a pipe works: `gunzip -c objects.jsonl.gz | cairn import \
        articles -`. Ctrl-C stops after the batch being written and reports what was committed \
        (exit status 130).
        """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The collection (or alias).") var collection: String
    @Argument(help: "The JSONL file, or - for standard input.") var file: String
    @Option(help: "The tenant, for multi-tenant collections.") var tenant: String?
    @Option(help: "Objects per atomic batch.") var batchSize = 1000
    @Flag(help: "Validate every line without writing anything.") var dryRun = false
    @Option(help: ArgumentHelp("Append the number of committed lines after each batch (for tests).", visibility: .hidden))
    var ackFile: String?

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() async throws {
        let progress = ProgressBar(dryRun ? "validating" : "importing", json: global.json)
        let ack = try ackFile.map { path -> FileHandle in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: path) else { throw CommandFailure(message: "cannot write \(path)") }
            return handle
        }
        let options = ImportOptions(batchSize: batchSize, dryRun: dryRun)
        let report = try await Interruption.cancellingOnSIGINT { [global, file, collection, tenant] in
            try await global.withImportTarget { target in
                try await target.importJSONL(from: file, into: collection, tenant: tenant, options: options) { step in
                    progress.update(done: step.bytesRead, total: step.totalBytes, detail: "\(step.objects) objects")
                    if let ack { ack.write(Data("\(step.lines)\n".utf8)) }
                }
            }
        }
        progress.finish()
        let target = collection + (tenant.map { "/\($0)" } ?? "")
        if global.json {
            Output.json(encodable: report)
        } else if dryRun {
            for error in report.errors { print(error) }
            print(report.invalidLines == 0
                  ? "dry run: all \(report.objects) objects in \(report.lines) lines are valid; nothing was written"
                  : "dry run: \(report.invalidLines) invalid lines, \(report.objects) valid objects; nothing was written")
        } else if report.interrupted {
            Output.error("interrupted: \(report.objects) objects from lines 1-\(report.lines) were imported into \(target); nothing after line \(report.lines)")
        } else {
            let rate = report.seconds > 0 ? Int(Double(report.objects) / report.seconds) : report.objects
            print("imported \(report.objects) objects into \(target) in \(report.batches) batches (\(String(format: "%.2f", report.seconds)) s, \(rate) objects/s)")
        }
        if report.interrupted { throw ExitCode(130) }
        if report.invalidLines > 0 { throw ExitCode(1) }
    }
}
