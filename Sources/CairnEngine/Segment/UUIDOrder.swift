import Foundation

/// A UUID as two big-endian words, ordered like its 16 bytes: the sort order of ids in segments.
struct UUIDOrder: Comparable {
    let high: UInt64
    let low: UInt64

    init(_ uuid: UUID) {
        let pair = withUnsafeBytes(of: uuid.uuid) { ($0.loadUnaligned(as: UInt64.self), $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) }
        high = UInt64(bigEndian: pair.0)
        low = UInt64(bigEndian: pair.1)
    }

    init(raw: UnsafeRawPointer) {
        high = UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self))
        low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    static func < (lhs: UUIDOrder, rhs: UUIDOrder) -> Bool {
        lhs.high < rhs.high || (lhs.high == rhs.high && lhs.low < rhs.low)
    }
}

extension UUIDOrder {
    /// The sorted union of two sorted arrays (duplicates kept; they do no harm to lookups).
    static func merge(_ a: [UUIDOrder], _ b: [UUIDOrder]) -> [UUIDOrder] {
        if a.isEmpty { return b }
        if b.isEmpty { return a }
        var merged: [UUIDOrder] = []
        merged.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if b[j] < a[i] { merged.append(b[j]); j += 1 } else { merged.append(a[i]); i += 1 }
        }
        merged.append(contentsOf: a[i...])
        merged.append(contentsOf: b[j...])
        return merged
    }
}
