import ArgumentParser

@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cairn-bench",
        abstract: "Cairn's benchmarks and data generators. Build with -c release to measure.",
        subcommands: [IngestBenchmark.self, ANNBenchmark.self, SnapshotBenchmark.self, CompactionBenchmark.self, MemoryBenchmark.self, GenerateCommand.self, BackupDataCommand.self, ScrollBenchmark.self, ChunkingBenchmark.self, LiveRestoreBenchmark.self, ControlBenchmark.self]
    )
}
