/// Sequential writes to a `WritableFile` through a buffer of bounded size, with the CRC32C of
/// everything appended since the last `startChecksum()`: how large files are written without
/// holding them in memory.
final class FileAppender {
    let file: any WritableFile
    /// The file offset the next byte goes to.
    private(set) var offset: Int
    private var buffer: [UInt8] = []
    private let bufferSize: Int
    private(set) var checksum: UInt32 = 0

    /// Writes go out in pieces that end on multiples of `bufferSize` in the file (2 MiB by
    /// default): the page cache can then hold the file in 2 MiB folios, which a mapping of it
    /// uses as huge pages (one TLB entry for what would otherwise take 512).
    init(_ file: any WritableFile, at offset: Int = 0, bufferSize: Int = 2 << 20) {
        self.file = file
        self.offset = offset
        self.bufferSize = bufferSize
        buffer.reserveCapacity(bufferSize)
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws {
        checksum = CRC32C.checksum(bytes, extending: checksum)
        var rest = bytes
        while !rest.isEmpty {
            let room = bufferSize - position % bufferSize
            let taken = min(room, rest.count)
            buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: rest[..<taken]))
            rest = UnsafeRawBufferPointer(rebasing: rest[taken...])
            if taken == room { try flush() }
        }
    }

    func append(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try append($0) }
    }

    /// Zero bytes until the offset is a multiple of `alignment` (not part of the checksum).
    func pad(toMultipleOf alignment: Int) throws {
        let remainder = (offset + buffer.count) % alignment
        guard remainder != 0 else { return }
        let saved = checksum
        try append([UInt8](repeating: 0, count: alignment - remainder))
        checksum = saved
    }

    /// Where the next appended byte lands in the file.
    var position: Int { offset + buffer.count }

    /// Starts a new checksum at the current position.
    func startChecksum() { checksum = 0 }

    /// Writes the buffered bytes to the file.
    func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try file.write($0, at: offset) }
        offset += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
