import Foundation

/// A manually managed, growable buffer of trivial values, so hot loops can use raw pointers
/// without array bounds, uniqueness or exclusivity checks. The owner frees it with `deallocate()`.
/// It grows with `realloc`, which moves a large block by remapping its pages: growing a large
/// buffer does not hold an old and a new copy resident at once.
@usableFromInline
package struct GrowableBuffer<Element: BitwiseCopyable> {
    @usableFromInline package private(set) var base: UnsafeMutablePointer<Element>
    @usableFromInline package private(set) var count = 0
    @usableFromInline package private(set) var capacity: Int
    /// Memory someone else owns (a mapped file): never grown, written or freed.
    @usableFromInline package let isBorrowed: Bool

    @inlinable package init(capacity: Int = 16) {
        self.capacity = max(1, capacity)
        base = Self.reallocate(nil, capacity: self.capacity)
        isBorrowed = false
    }

    /// A read-only view of `count` elements owned elsewhere.
    @inlinable package init(borrowing elements: UnsafePointer<Element>, count: Int) {
        base = UnsafeMutablePointer(mutating: elements)
        self.count = count
        capacity = count
        isBorrowed = true
    }

    /// Makes room for `extra` more elements (doubling), so `base` stays valid until the next growth.
    @inlinable package mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        precondition(!isBorrowed, "a borrowed buffer cannot grow")
        var newCapacity = capacity
        while newCapacity < count + extra { newCapacity *= 2 }
        base = Self.reallocate(base, capacity: newCapacity, populated: count)
        capacity = newCapacity
    }

    /// `block` (or a new block when nil) resized to `capacity` elements, its first `populated`
    /// kept.
    @usableFromInline static func reallocate(_ block: UnsafeMutablePointer<Element>?, capacity: Int,
                                             populated: Int = 0) -> UnsafeMutablePointer<Element> {
        let bytes = capacity * MemoryLayout<Element>.stride
        guard let grown = realloc(block, bytes) else {
            fatalError("out of memory growing a buffer to \(capacity) elements")
        }
        adviseHugePages(grown, bytes: bytes)
        if grown != UnsafeMutableRawPointer(block) { collapseHugePages(grown, bytes: populated * MemoryLayout<Element>.stride) }
        return grown.assumingMemoryBound(to: Element.self)
    }

    /// Maps the whole 2 MiB pages of a block's first `bytes` as huge pages again (Linux 6.1's
    /// `MADV_COLLAPSE`; older kernels refuse, and nothing changes). A large block that `realloc`
    /// moved by remapping keeps its pages but loses their huge mappings, since the new address
    /// seldom has the old one's offset within 2 MiB: a memtable's vectors were found mostly in
    /// 4 KiB pages, and its graph linked 10% slower than one over a fresh block.
    @usableFromInline static func collapseHugePages(_ block: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let hugePage = 2 << 20
        let start = (Int(bitPattern: block) + hugePage - 1) & ~(hugePage - 1)
        let end = (Int(bitPattern: block) + bytes) & ~(hugePage - 1)
        guard end > start else { return }
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, 25 /* MADV_COLLAPSE */)
        #endif
    }

    /// Asks for huge pages under a block of at least 2 MiB (vectors, links, visited tags): a
    /// graph walk touches such a block at random, and with 4 KiB pages nearly every vector it
    /// reads costs a TLB miss. Only the whole pages inside the block are advised.
    @usableFromInline static func adviseHugePages(_ block: UnsafeMutableRawPointer, bytes: Int) {
        #if os(Linux)
        let hugePage = 2 << 20, page = 4096
        guard bytes >= hugePage else { return }
        let start = (Int(bitPattern: block) + page - 1) & ~(page - 1)
        let end = (Int(bitPattern: block) + bytes) & ~(page - 1)
        _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
        #endif
    }

    /// Appends `count` copies of `value`.
    @inlinable package mutating func append(repeating value: Element, count extra: Int) {
        reserve(extra)
        (base + count).initialize(repeating: value, count: extra)
        count += extra
    }

    /// Appends the elements of a buffer.
    @inlinable package mutating func append(contentsOf elements: UnsafeBufferPointer<Element>) {
        reserve(elements.count)
        if let source = elements.baseAddress { (base + count).initialize(from: source, count: elements.count) }
        count += elements.count
    }

    @inlinable package func deallocate() {
        if !isBorrowed { free(base) }
    }
}
