import Foundation

/// Collects (key, row) pairs of one property while a segment is built, and writes its inverted
/// index: keys sorted bytewise, each with its ascending rows. Keys live in one shared byte
/// buffer, so building allocates nothing per value.
struct PostingsBuilder {
    private var keyBytes: [UInt8] = []
    /// (offset into `keyBytes`, key length, row), in insertion order.
    private var entries: [(offset: UInt32, length: UInt32, row: UInt32)] = []

    /// Indexes `value` (every element of an array) at `row`.
    mutating func add(_ value: PropertyValue, row: UInt32) {
        for element in value.elements {
            let offset = keyBytes.count
            IndexKey.append(element, to: &keyBytes)
            entries.append((UInt32(offset), UInt32(keyBytes.count - offset), row))
        }
    }

    /// Hands this property's index, in the layout `SegmentFormat` describes, to `append` in
    /// pieces of at most `pieceSize` bytes, each row `r` written as `newRow[r]` when the rows were
    /// reordered. Sorts the collected pairs in place and then forgets them: the builder is
    /// empty afterwards, so a flush does not hold a second copy of them or the whole block.
    mutating func write(name: String, newRow: [UInt32]? = nil, pieceSize: Int = 64 << 10,
                        to append: (UnsafeRawBufferPointer) throws -> Void) throws {
        if let newRow {
            for index in entries.indices { entries[index].row = newRow[Int(entries[index].row)] }
        }
        keyBytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress
            func compare(_ a: (offset: UInt32, length: UInt32, row: UInt32), _ b: (offset: UInt32, length: UInt32, row: UInt32)) -> Int {
                let common = Int(min(a.length, b.length))
                if common > 0, let base {
                    let result = memcmp(base + Int(a.offset), base + Int(b.offset), common)
                    if result != 0 { return Int(result) }
                }
                return Int(a.length) - Int(b.length)
            }
            entries.sort { a, b in
                let keyOrder = compare(a, b)
                return keyOrder != 0 ? keyOrder < 0 : a.row < b.row
            }
        }
        // Group equal keys; drop repeated rows (an array holding the same element twice).
        var keys: [(offset: UInt32, length: UInt32)] = []
        var rows: [UInt32] = []
        var rowEnds: [UInt32] = []
        keyBytes.withUnsafeBufferPointer { buffer in
            for entry in entries {
                if let last = keys.last, last.length == entry.length,
                   entry.length == 0 || memcmp(buffer.baseAddress! + Int(last.offset), buffer.baseAddress! + Int(entry.offset), Int(entry.length)) == 0 {
                    if rows.last != entry.row { rows.append(entry.row) }
                    rowEnds[rowEnds.count - 1] = UInt32(rows.count)
                } else {
                    keys.append((entry.offset, entry.length))
                    rows.append(entry.row)
                    rowEnds.append(UInt32(rows.count))
                }
            }
        }
        entries = []
        var writer = ByteWriter(capacity: pieceSize + 64)
        func flushIfFull() throws { try writer.handOver(ifAtLeast: pieceSize, to: append) }
        writer.write(name)
        writer.write(UInt32(keys.count))
        var keyOffset: UInt32 = 0
        writer.write(keyOffset)
        for key in keys {
            keyOffset += key.length
            writer.write(keyOffset)
            try flushIfFull()
        }
        try keyBytes.withUnsafeBytes { raw in
            for key in keys {
                writer.write(raw: UnsafeRawBufferPointer(rebasing: raw[Int(key.offset)..<Int(key.offset + key.length)]))
                try flushIfFull()
            }
        }
        keyBytes = []
        writer.write(UInt32(0))
        for end in rowEnds {
            writer.write(end)
            try flushIfFull()
        }
        for row in rows {
            writer.write(row)
            try flushIfFull()
        }
        try writer.handOver(to: append)
    }
}
