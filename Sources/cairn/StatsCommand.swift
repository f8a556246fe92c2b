import ArgumentParser
import Cairn
import Foundation

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Collections, tenants, objects, segments, WAL size and checkpoint LSN."
    )
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let stats = try await global.withDatabase { db in db.stats() }
        if global.json { return Output.json(encodable: stats) }
        let rows: [(String, String)] = [
            ("data directory", global.dataDirectory),
            ("collections", String(stats.collections)),
            ("tenants", String(stats.tenants)),
            ("objects", String(stats.objects)),
            ("  not yet flushed", String(stats.unflushedObjects)),
            ("segments", "\(stats.segments) (\(Output.bytes(stats.segmentBytes)))"),
            ("WAL", "\(stats.walFiles) files (\(Output.bytes(stats.walBytes)))"),
            ("checkpoint LSN", String(stats.checkpointLSN)),
            ("last LSN", String(stats.lastLSN)),
        ]
        for (name, value) in rows { print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + value) }
    }
}

struct FlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Write the in-memory part to segments and move the checkpoint forward (shorter restart)."
    )
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let stats = try await global.withDatabase { db in
            try await db.flush()
            return db.stats()
        }
        global.report(encodable: stats, "flushed; checkpoint LSN \(stats.checkpointLSN), \(stats.segments) segments")
    }
}
