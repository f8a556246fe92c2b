@testable import CairnEngine
import CairnTestSupport
import CairnVector
import Foundation
import Synchronization
import Testing

@Suite("Memtable graph")
struct MemtableGraphTests {
    @Test("the live graph links the memtable's vectors in place while appends move their block, on one thread and on two",
          arguments: [1, 2])
    func linksInPlaceWhileTheBlockMoves(threads: Int) {
        let dimensions = 16, slots = 12_000
        let vectors = MemtableVectors(dimensions: dimensions)
        let graph = MemtableGraph(vectors: vectors, metric: .l2, parameters: HNSWParameters(M: 8, efConstruction: 40))
        var generator = SeededGenerator(seed: 21)
        let values = (0..<slots * dimensions).map { _ in Float.random(in: -1...1, using: &generator) }
        @Sendable func isTombstone(_ slot: Int) -> Bool { slot % 10 == 9 }
        let appended = Atomic<Bool>(false)
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            if thread == 0 {
                for slot in 0..<slots {
                    if isTombstone(slot) {
                        graph.append(nil, scale: 1)
                    } else {
                        values.withUnsafeBufferPointer { graph.append(UnsafeBufferPointer(rebasing: $0[slot * dimensions..<(slot + 1) * dimensions]), scale: 1) }
                    }
                }
                appended.store(true, ordering: .releasing)
            } else {
                // What the indexer does: link what is queued while appends grow (and move) the block.
                while !appended.load(ordering: .acquiring) { _ = graph.linkQueued(limit: 64, threads: threads) }
            }
        }
        graph.linkAll(threads: threads)
        #expect(vectors.count == slots)
        #expect(graph.nodeCount == slots - slots / 10)
        #expect(graph.queuedCount == 0)
        #expect(graph.completeIndex(slots: slots) == nil, "tombstones' slots are not linked nodes")
        var found = 0, asked = 0
        for slot in stride(from: 0, to: slots, by: 7) {
            let row = UnsafeBufferPointer(start: vectors.row(slot), count: dimensions)
            let expected = isTombstone(slot) ? [Float](repeating: 0, count: dimensions) : Array(values[slot * dimensions..<(slot + 1) * dimensions])
            #expect(Array(row) == expected)
            guard !isTombstone(slot) else { continue }
            asked += 1
            let hits = graph.search(row.baseAddress!, k: 1, ef: 64, isAllowed: { !isTombstone($0) }, allowedBound: nil)
            #expect(hits.indexedSlots == slots - 1, "every slot up to the last vector's is covered (the last slot is a tombstone's)")
            if hits.hits.first?.row == slot && hits.hits.first?.distance == 0 { found += 1 }
        }
        #expect(Double(found) >= 0.99 * Double(asked), "each linked vector finds itself: \(found) of \(asked)")
    }

    @Test("searches alongside a flush's linking on two threads keep only covered slots and find each vector there")
    func searchesAlongsideLinking() {
        let slots = 8_000
        let (vectors, graph) = Self.queuedGraph(dimensions: 16, slots: slots, metric: .l2, efConstruction: 60, seed: 23)
        let linked = Atomic<Bool>(false)
        let searches = Mutex((asked: 0, found: 0, beyondCover: 0))
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            if thread == 0 {
                graph.linkAll(threads: 2)
                linked.store(true, ordering: .releasing)
                return
            }
            var slot = 0
            repeat {
                let result = graph.search(vectors.row(slot), k: 1, ef: 32, isAllowed: { _ in true }, allowedBound: nil)
                searches.withLock { tally in
                    tally.beyondCover += result.hits.filter { $0.row >= result.indexedSlots }.count
                    if slot < result.indexedSlots {
                        tally.asked += 1
                        if result.hits.first?.row == slot && result.hits.first?.distance == 0 { tally.found += 1 }
                    }
                }
                slot = (slot + 97) % slots
            } while !linked.load(ordering: .acquiring)
        }
        let tally = searches.withLock { $0 }
        #expect(tally.beyondCover == 0, "a hit past the covered slots would be found again by the caller's exact scan")
        #expect(Double(tally.found) >= 0.98 * Double(tally.asked), "covered vectors find themselves: \(tally.found) of \(tally.asked)")
        #expect(graph.nodeCount == slots && graph.completeIndex(slots: slots)?.count == slots)
    }

    @Test("a memtable of rows only hands its finished graph to the flush")
    func completeGraph() {
        let slots = 3_000
        let (vectors, graph) = Self.queuedGraph(dimensions: 8, slots: slots, metric: .cosine, efConstruction: 40, seed: 5)
        #expect(graph.completeIndex(slots: slots) == nil, "nothing is linked yet")
        graph.linkAll(threads: 2)
        let index = graph.completeIndex(slots: slots)
        #expect(index?.count == slots)
        #expect(index.map { $0.vector(5) == vectors.row(5) } == true, "the graph reads the memtable's vectors in place")
    }

    /// A memtable's vectors of `slots` seeded random rows, all queued in a graph not linked yet.
    private static func queuedGraph(dimensions: Int, slots: Int, metric: DistanceMetric, efConstruction: Int,
                                    seed: UInt64) -> (MemtableVectors, MemtableGraph) {
        let vectors = MemtableVectors(dimensions: dimensions)
        let graph = MemtableGraph(vectors: vectors, metric: metric, parameters: HNSWParameters(M: 8, efConstruction: efConstruction))
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<slots {
            let vector = (0..<dimensions).map { _ in Float.random(in: -1...1, using: &generator) }
            vector.withUnsafeBufferPointer { graph.append($0, scale: metric.scale(of: $0)) }
        }
        return (vectors, graph)
    }
}
