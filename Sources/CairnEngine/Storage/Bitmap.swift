/// A fixed-size set of row numbers, one bit each: filter results and dead-row marks.
struct Bitmap: Sendable, Equatable {
    private(set) var words: [UInt64]
    let count: Int

    /// A bitmap of `count` rows, all clear (or all set).
    init(count: Int, filled: Bool = false) {
        self.count = count
        words = [UInt64](repeating: filled ? ~0 : 0, count: (count + 63) / 64)
        if filled { clearTail() }
    }

    private mutating func clearTail() {
        let extra = words.count * 64 - count
        if extra > 0, !words.isEmpty { words[words.count - 1] &= ~0 >> UInt64(extra) }
    }

    subscript(row: Int) -> Bool {
        get { words[row >> 6] & (1 << UInt64(row & 63)) != 0 }
        set {
            if newValue { words[row >> 6] |= 1 << UInt64(row & 63) } else { words[row >> 6] &= ~(1 << UInt64(row & 63)) }
        }
    }

    mutating func formIntersection(_ other: Bitmap) {
        for i in words.indices { words[i] &= other.words[i] }
    }

    mutating func formUnion(_ other: Bitmap) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    /// Keeps the rows not in `other`.
    mutating func subtract(_ other: Bitmap) {
        for i in words.indices { words[i] &= ~other.words[i] }
    }

    mutating func invert() {
        for i in words.indices { words[i] = ~words[i] }
        clearTail()
    }

    var cardinality: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// Calls `body` with every set row, in ascending order.
    func forEachSet(_ body: (Int) throws -> Void) rethrows {
        for (index, word) in words.enumerated() {
            var remaining = word
            while remaining != 0 {
                let bit = remaining.trailingZeroBitCount
                try body(index << 6 | bit)
                remaining &= remaining - 1
            }
        }
    }
}
