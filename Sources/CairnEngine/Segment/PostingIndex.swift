import Foundation

/// One property's inverted index inside a mapped segment: sorted keys, each with the ascending
/// rows that hold it. Nothing is decoded up front; lookups binary-search the mapped bytes.
struct PostingIndex {
    let keyCount: Int
    private let keyOffsets: UnsafeRawPointer
    private let keyData: UnsafeRawPointer
    private let postingOffsets: UnsafeRawPointer
    private let postings: UnsafeRawPointer

    /// Parses the inverted-index block into one index per property.
    static func parseAll(_ block: UnsafeRawBufferPointer, rowCount: Int) throws -> [String: PostingIndex] {
        var reader = ByteReader(block)
        var result: [String: PostingIndex] = [:]
        let propertyCount = Int(try reader.read(UInt32.self))
        for _ in 0..<propertyCount {
            let name = try reader.readString()
            let keyCount = Int(try reader.read(UInt32.self))
            let keyOffsets = try reader.readRaw(count: (keyCount + 1) * 4)
            let keyBytes = Int(UInt32(littleEndian: keyOffsets.loadUnaligned(fromByteOffset: keyCount * 4, as: UInt32.self)))
            let keyData = try reader.readRaw(count: keyBytes)
            let postingOffsets = try reader.readRaw(count: (keyCount + 1) * 4)
            let postingCount = Int(UInt32(littleEndian: postingOffsets.loadUnaligned(fromByteOffset: keyCount * 4, as: UInt32.self)))
            let postings = try reader.readRaw(count: postingCount * 4)
            for i in 0..<postingCount where Int(UInt32(littleEndian: postings.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))) >= rowCount {
                throw ByteReader.Truncated(offset: i)
            }
            let base = UnsafeRawPointer(bitPattern: 1)!
            result[name] = PostingIndex(keyCount: keyCount, keyOffsets: keyOffsets.baseAddress ?? base,
                                        keyData: keyData.baseAddress ?? base, postingOffsets: postingOffsets.baseAddress ?? base,
                                        postings: postings.baseAddress ?? base)
        }
        return result
    }

    private func offset(_ table: UnsafeRawPointer, _ index: Int) -> Int {
        Int(UInt32(littleEndian: table.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
    }

    private func key(_ index: Int) -> UnsafeRawBufferPointer {
        let start = offset(keyOffsets, index), end = offset(keyOffsets, index + 1)
        return UnsafeRawBufferPointer(start: keyData + start, count: max(0, end - start))
    }

    /// Whether stored key `index` sorts before `key`.
    private func storedKey(_ index: Int, precedes key: IndexKey) -> Bool {
        self.key(index).lexicographicallyPrecedes(key.bytes)
    }

    private func storedKey(_ index: Int, follows key: IndexKey) -> Bool {
        key.bytes.lexicographicallyPrecedes(self.key(index))
    }

    /// The first key index for which `isBefore` is false.
    private func partition(_ isBefore: (Int) -> Bool) -> Int {
        var low = 0, high = keyCount
        while low < high {
            let middle = (low + high) / 2
            if isBefore(middle) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The range of key indexes whose keys satisfy `stored op key` (`!=` is not handled here).
    func range(of op: ComparisonOperator, _ key: IndexKey) -> Range<Int> {
        let firstNotLess = partition { storedKey($0, precedes: key) }
        let firstGreater = partition { !storedKey($0, follows: key) }
        switch op {
        case .equal, .notEqual: return firstNotLess..<firstGreater
        case .less: return 0..<firstNotLess
        case .lessOrEqual: return 0..<firstGreater
        case .greater: return firstGreater..<keyCount
        case .greaterOrEqual: return firstNotLess..<keyCount
        }
    }

    /// The union of the posting lists of the keys in `range`.
    func rows(in range: Range<Int>, rowCount: Int) -> Bitmap {
        var result = Bitmap(count: rowCount)
        guard !range.isEmpty else { return result }
        let start = offset(postingOffsets, range.lowerBound), end = offset(postingOffsets, range.upperBound)
        for i in start..<end {
            result[Int(UInt32(littleEndian: postings.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))] = true
        }
        return result
    }
}
