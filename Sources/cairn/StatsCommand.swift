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
        let stats = try await global.perform(.stats, as: EngineStats.self)
        if global.json { return Output.json(encodable: stats) }
        let rows: [(String, String)] = [
            ("data directory", global.dataDirectory),
            ("collections", String(stats.collections)),
            ("tenants", String(stats.tenants)),
            ("objects", String(stats.objects)),
            ("  not yet flushed", String(stats.unflushedObjects)),
            ("  not yet indexed", "\(stats.unindexedVectors) (scanned exactly until linked into the live graph)"),
            ("segments", "\(stats.segments) (\(Output.bytes(stats.segmentBytes)))"),
            ("WAL", "\(stats.walFiles) files (\(Output.bytes(stats.walBytes)))"),
            ("  since checkpoint", "\(Output.bytes(stats.walBytesSinceCheckpoint)), replay after a crash ≈ \(String(format: "%.2f", stats.estimatedReplaySeconds)) s"),
            ("checkpoint LSN", String(stats.checkpointLSN)),
            ("last LSN", String(stats.lastLSN)),
            ("snapshots", "\(stats.snapshots) (local, same disk — not backups)"),
        ]
        + (stats.storageSnapshotWindow.map { window in
            [("storage snapshot", "window '\(window.label)' open since \(Output.date(milliseconds: window.beganAt)) at LSN \(window.startLSN), "
              + "expires \(Output.date(milliseconds: window.expiresAt)); compaction and file deletion held")]
        } ?? [])
        for (name, value) in rows { print(name.padding(toLength: 20, withPad: " ", startingAt: 0) + value) }
    }
}

struct FlushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flush",
        abstract: "Write the in-memory part to segments and move the checkpoint forward (shorter restart)."
    )
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let stats = try await global.perform(.flush, as: EngineStats.self)
        global.report(encodable: stats, "flushed; checkpoint LSN \(stats.checkpointLSN), \(stats.segments) segments")
    }
}
