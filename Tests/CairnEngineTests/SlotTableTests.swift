@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Slot table")
struct SlotTableTests {
    @Test("finds the newest slot of every id through growth, with ids that differ only in their last bytes and with random ones")
    func newestSlots() {
        var generator = SeededGenerator(seed: 3)
        for sequential in [true, false] {
            let distinct = 50_000
            let ids: [UUID] = (0..<distinct).map { row in
                guard sequential else { return generator.uuid() }
                var bytes = [UInt8](repeating: 0, count: 16)
                withUnsafeBytes(of: UInt64(row).bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
                return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                                   bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
            }
            // Slots in apply order: every id once, then every third id again.
            var slotIDs: [UUID] = []
            var table = SlotTable()
            var replaced = 0
            for id in ids + stride(from: 0, to: distinct, by: 3).map({ ids[$0] }) {
                slotIDs.append(id)
                if let previous = table.set(slotIDs.count - 1, for: id, idOfSlot: { slotIDs[$0] }) {
                    #expect(slotIDs[previous] == id)
                    replaced += 1
                }
            }
            #expect(table.count == distinct)
            #expect(replaced == (distinct + 2) / 3)
            let newest = ids.indices.map { $0 % 3 == 0 ? distinct + $0 / 3 : $0 }
            let wrong = ids.indices.filter { table.slot(of: ids[$0], idOfSlot: { slotIDs[$0] }) != newest[$0] }
            #expect(wrong.count == 0, "ids whose newest slot was not found, the first: \(Array(wrong.prefix(5)))")
            #expect(table.slot(of: generator.uuid(), idOfSlot: { slotIDs[$0] }) == nil)
            var seen: [Int] = []
            table.forEachSlot { seen.append($0) }
            #expect(seen.sorted() == newest.sorted())
        }
    }
}
