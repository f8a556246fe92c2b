@testable import CairnEngine
import CairnTestSupport
import Foundation
import Synchronization
import Testing

@Suite("Memtable vectors")
struct MemtableVectorsTests {
    @Test("slots read back exactly while the block grows, also when copied out by another thread during appends")
    func growthAndConcurrentCopies() {
        let dimensions = 16, slots = 200_000
        let vectors = MemtableVectors(dimensions: dimensions)
        let appended = Atomic<Int>(0)
        let mismatches = Atomic<Int>(0)
        @Sendable func value(_ slot: Int, _ d: Int) -> Float { Float(slot * dimensions + d) }
        DispatchQueue.concurrentPerform(iterations: 2) { thread in
            if thread == 0 {
                var row = [Float](repeating: 0, count: dimensions)
                for slot in 0..<slots {
                    for d in 0..<dimensions { row[d] = value(slot, d) }
                    if slot % 10 == 9 {
                        vectors.append(nil, scale: 1) // a tombstone's zeros
                    } else {
                        row.withUnsafeBufferPointer { vectors.append($0, scale: Float(slot)) }
                    }
                    appended.store(slot + 1, ordering: .releasing)
                }
            } else {
                // What the graph indexer does: copy slots that were appended, while appends move the block.
                let copy = UnsafeMutablePointer<Float>.allocate(capacity: dimensions)
                defer { copy.deallocate() }
                var generator = SeededGenerator(seed: 21)
                while appended.load(ordering: .acquiring) < slots {
                    let available = appended.load(ordering: .acquiring)
                    guard available > 0 else { continue }
                    let slot = Int.random(in: 0..<available, using: &generator)
                    vectors.copy(slot: slot, into: copy)
                    for d in 0..<dimensions where copy[d] != (slot % 10 == 9 ? 0 : value(slot, d)) {
                        mismatches.add(1, ordering: .relaxed)
                    }
                }
            }
        }
        #expect(mismatches.load(ordering: .relaxed) == 0)
        #expect(vectors.count == slots)
        for slot in stride(from: 0, to: slots, by: 97) {
            let row = UnsafeBufferPointer(start: vectors.row(slot), count: dimensions)
            #expect(Array(row) == (0..<dimensions).map { slot % 10 == 9 ? 0 : value(slot, $0) })
            #expect(vectors.scales[slot] == (slot % 10 == 9 ? 1 : Float(slot)))
        }
        #expect(vectors.allRows == vectors.row(0))
    }
}
