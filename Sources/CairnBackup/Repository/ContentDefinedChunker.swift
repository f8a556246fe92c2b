/// Content-defined chunking with FastCDC (Xia et al., USENIX ATC 2016): a file is cut where a
/// rolling "gear" hash of the last 64 bytes has certain bits zero, so an insertion or deletion
/// moves only the cuts near it and the chunks elsewhere keep their content (and their blob
/// ids). Normalised chunking (a harder condition before the average size, an easier one after)
/// keeps sizes close to the average; nothing is cut before `minimum` or after `maximum` bytes.
///
/// The gear table is derived from a seed (the repository's key), so the cut points reveal
/// nothing about the content to someone without it.
package struct ContentDefinedChunker: Sendable {
    package let minimum: Int
    package let average: Int
    package let maximum: Int
    private let gear: [UInt64]
    /// Tested before the average size: two bits more than log2(average), so cuts are rarer.
    private let strictMask: UInt64
    /// Tested after it: two bits fewer, so cuts come sooner.
    private let looseMask: UInt64

    /// A chunker of about `average` bytes (a power of two) per chunk, between `minimum` and
    /// `maximum`, whose gear table `seed` determines.
    package init(seed: [UInt8], minimum: Int = 256 << 10, average: Int = 1 << 20, maximum: Int = 4 << 20) {
        precondition(average > 0 && average & (average - 1) == 0 && minimum < average && average < maximum, "average must be a power of two between minimum and maximum")
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
        var state = seed.prefix(8).enumerated().reduce(UInt64(0x9E37_79B9_7F4A_7C15)) { $0 ^ (UInt64($1.element) << (8 * UInt64($1.offset))) }
        gear = (0..<256).map { _ in Self.splitMix(&state) }
        let bits = average.trailingZeroBitCount
        // The hash shifts left: its high bits depend on the most bytes, so the masks take those.
        strictMask = ~UInt64(0) << UInt64(64 - (bits + 2))
        looseMask = ~UInt64(0) << UInt64(64 - (bits - 2))
    }

    /// The length of the chunk that starts `bytes`: a cut point, or all of `bytes` when they
    /// are no longer than `minimum`, or `maximum`. Give it at least `maximum` bytes unless the
    /// file ends sooner.
    package func chunkLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        let count = bytes.count
        guard count > minimum else { return count }
        let end = min(count, maximum), normal = min(average, end)
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return count }
        return gear.withUnsafeBufferPointer { table in
            let gear = table.baseAddress!
            var hash: UInt64 = 0
            var position = minimum
            while position < normal {
                hash = (hash &<< 1) &+ gear[Int(base[position])]
                position += 1
                if hash & strictMask == 0 { return position }
            }
            while position < end {
                hash = (hash &<< 1) &+ gear[Int(base[position])]
                position += 1
                if hash & looseMask == 0 { return position }
            }
            return end
        }
    }

    /// The chunks `bytes` (a whole file) is cut into, in order.
    package func chunks(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        while start < bytes.count {
            let length = bytes.withUnsafeBytes { chunkLength(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            result.append(bytes[start..<(start + length)])
            start += length
        }
        return result
    }

    /// SplitMix64: a well-mixed sequence from any seed (for the gear table).
    private static func splitMix(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
