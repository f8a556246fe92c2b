@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Size-tiered compaction")
struct CompactionTests {
    typealias Input = CompactionPolicy.Input

    @Test("runs of similar size merge; a big old segment is left alone; a mostly dead one is rewritten")
    func policy() {
        let policy = CompactionPolicy(minimumRun: 4, tierBase: 1000, tierRatio: 4)
        #expect(policy.tier(1000) == 0 && policy.tier(1001) == 1 && policy.tier(16_000) == 2 && policy.tier(16_001) == 3)
        let small = Input(bytes: 500, rows: 10, deadRows: 0), big = Input(bytes: 100_000, rows: 5000, deadRows: 0)
        #expect(policy.runs([small, small, small]) == [])
        #expect(policy.runs([big, small, small, small, small]) == [1..<5])
        #expect(policy.runs([small, small, small, small, small, big]) == [0..<5])
        #expect(policy.runs([big, big, big, big]) == [0..<4])
        let dead = Input(bytes: 100_000, rows: 5000, deadRows: 2000)
        #expect(policy.runs([dead, small, small]) == [0..<1])
        #expect(policy.runs([Input(bytes: 0, rows: 0, deadRows: 0)]) == [])
    }

    @Test("each byte is written a few times, not once per flush: write amplification stays bounded")
    func writeAmplification() {
        // 200 flushes of 1 MB: merging everything every 4 flushes rewrites the partition 50 times;
        // size-tiered writes each byte about once per tier.
        let policy = CompactionPolicy(minimumRun: 4, tierBase: 1 << 20, tierRatio: 4)
        var segments: [Input] = []
        var written = 0, flushed = 0
        for _ in 0..<200 {
            segments.append(Input(bytes: 1 << 20, rows: 1000, deadRows: 0))
            flushed += 1 << 20
            written += 1 << 20
            while let run = policy.runs(segments).last {
                let merged = segments[run].reduce(Input(bytes: 0, rows: 0, deadRows: 0)) {
                    Input(bytes: $0.bytes + $1.bytes, rows: $0.rows + $1.rows, deadRows: 0)
                }
                written += merged.bytes
                segments.replaceSubrange(run, with: [merged])
            }
        }
        let amplification = Double(written) / Double(flushed)
        #expect(amplification <= 5, "write amplification \(amplification)")
        #expect(segments.count <= 12, "\(segments.count) segments")
    }

    @Test("a merged run that has older segments below keeps its tombstones")
    func tombstonesOutliveAPartialMerge() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var options = EngineOptions()
        options.compactionSegmentCount = 3
        options.compactionTierBytes = 2048
        var generator = SeededGenerator(seed: 9)
        let base = (0..<500).map { _ in NewObject(vector: generator.vector(4)) }
        let victim = base[17].id
        do {
            let engine = try await Engine.open(at: directory.path, options: options)
            try await engine.createCollection(CollectionSchema(name: "c", dimensions: 4, metric: .l2))
            try await engine.put(base, collection: "c")
            try await engine.flush()
            try await engine.delete([victim], collection: "c")
            try await engine.flush()
            for _ in 0..<2 {
                try await engine.put([NewObject(vector: generator.vector(4))], collection: "c")
                try await engine.flush()
            }
            #expect(engine.stats().segments == 2, "the three small segments were merged, the big one left alone")
            #expect(try engine.get(victim, collection: "c") == nil)
            #expect(try engine.count(collection: "c") == 501)
            await engine.close()
        }
        let engine = try await Engine.open(at: directory.path, options: options)
        #expect(try engine.get(victim, collection: "c") == nil)
        #expect(try engine.count(collection: "c") == 501)
        await engine.close()
    }
}
