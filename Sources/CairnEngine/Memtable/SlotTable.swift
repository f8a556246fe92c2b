import Foundation

/// The newest slot of each id in a memtable: an open-addressing table of 4-byte slot numbers,
/// between a quarter and half full, that reads the ids themselves from the memtable's entries
/// (`idOfSlot`). 8–16 bytes an id, where a `[UUID: Int]` costs about sixty.
struct SlotTable {
    /// Slot numbers; `empty` where none.
    private var buckets = [Int32](repeating: SlotTable.empty, count: 16)
    /// The number of ids held.
    private(set) var count = 0
    private static let empty: Int32 = -1

    /// The slot recorded for `id`, if any.
    func slot(of id: UUID, idOfSlot: (Int) -> UUID) -> Int? {
        let position = find(id, idOfSlot: idOfSlot)
        return buckets[position] == Self.empty ? nil : Int(buckets[position])
    }

    /// Records `slot` as `id`'s, replacing its previous one. Returns that previous slot.
    @discardableResult
    mutating func set(_ slot: Int, for id: UUID, idOfSlot: (Int) -> UUID) -> Int? {
        precondition(slot < Int(Int32.max), "a memtable holds fewer than 2^31 slots")
        var position = find(id, idOfSlot: idOfSlot)
        if buckets[position] != Self.empty {
            defer { buckets[position] = Int32(slot) }
            return Int(buckets[position])
        }
        if (count + 1) * 2 > buckets.count {
            grow(idOfSlot: idOfSlot)
            position = find(id, idOfSlot: idOfSlot)
        }
        buckets[position] = Int32(slot)
        count += 1
        return nil
    }

    /// Every recorded slot, in no particular order.
    func forEachSlot(_ body: (Int) throws -> Void) rethrows {
        for slot in buckets where slot != Self.empty { try body(Int(slot)) }
    }

    /// The bucket that holds `id`, or the empty one where it would go.
    private func find(_ id: UUID, idOfSlot: (Int) -> UUID) -> Int {
        let mask = buckets.count - 1
        var position = Self.hash(id) & mask
        while buckets[position] != Self.empty && idOfSlot(Int(buckets[position])) != id {
            position = (position + 1) & mask
        }
        return position
    }

    private mutating func grow(idOfSlot: (Int) -> UUID) {
        let old = buckets
        buckets = [Int32](repeating: Self.empty, count: old.count * 2)
        let mask = buckets.count - 1
        for slot in old where slot != Self.empty {
            var position = Self.hash(idOfSlot(Int(slot))) & mask
            while buckets[position] != Self.empty { position = (position + 1) & mask }
            buckets[position] = slot
        }
    }

    /// Mixes all 128 bits of an id: callers' ids need not be random (row numbers in the last
    /// bytes are common), so the table cannot take a few of its bytes as they are.
    private static func hash(_ id: UUID) -> Int {
        let (high, low) = withUnsafeBytes(of: id.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        var z = high &* 0x9E37_79B9_7F4A_7C15 ^ low
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: z ^ (z >> 31))
    }
}
