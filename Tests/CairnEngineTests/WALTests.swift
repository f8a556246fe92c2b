@testable import CairnEngine
import CairnTestSupport
import Foundation
import Testing

@Suite("Write-ahead log")
struct WALTests {
    /// Writes framed records with payloads of seeded random lengths and returns their offsets.
    private func writeLog(at directory: String, count: Int, seed: UInt64) throws -> (path: String, payloads: [[UInt8]], offsets: [Int]) {
        var generator = SeededGenerator(seed: seed)
        let writer = try WALWriter(fs: LocalFileSystem(), directory: directory, sequence: 1, validLength: nil)
        var payloads: [[UInt8]] = []
        var offsets: [Int] = []
        for index in 0..<count {
            let payload = (0..<(1 + Int(generator.next() % 300))).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var frame = ByteWriter()
            payload.withUnsafeBytes { WALFormat.appendRecord(lsn: UInt64(index + 1), payload: $0, to: &frame) }
            offsets.append(writer.size)
            try frame.bytes.withUnsafeBytes { try writer.append($0) }
            payloads.append(payload)
        }
        try writer.sync()
        writer.close()
        return (directory + "/" + WALFormat.fileName(1), payloads, offsets)
    }

    private func scan(_ path: String, isNewest: Bool = true) throws -> ([(UInt64, [UInt8])], WALReader.Outcome) {
        let file = try LocalFileSystem().map(path)
        var records: [(UInt64, [UInt8])] = []
        let outcome = try WALReader(path: path, bytes: file.bytes, isNewest: isNewest).scan { lsn, payload, _ in
            records.append((lsn, Array(payload)))
        }
        return (records, outcome)
    }

    @Test("records round-trip with their LSNs")
    func roundTrip() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, payloads, _) = try writeLog(at: directory.path, count: 200, seed: 7)
        let (records, outcome) = try scan(path)
        #expect(records.map(\.0) == (1...200).map(UInt64.init))
        #expect(records.map(\.1) == payloads)
        #expect(!outcome.tornTail)
        #expect(outcome.validLength == (try LocalFileSystem().fileSize(path)))
    }

    @Test("a torn tail is truncated to the last whole record", arguments: [1, 7, 19, 25])
    func tornTail(cut: Int) throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, payloads, offsets) = try writeLog(at: directory.path, count: 50, seed: 11)
        let size = try LocalFileSystem().fileSize(path)
        // Cut inside the last record: anywhere from its header to its last payload byte.
        let cutAt = min(size - 1, offsets[49] + cut)
        #expect(truncate(path, off_t(cutAt)) == 0)
        let (records, outcome) = try scan(path)
        #expect(records.count == 49)
        #expect(records.map(\.1) == Array(payloads.prefix(49)))
        #expect(outcome.tornTail)
        #expect(outcome.validLength == offsets[49])
    }

    @Test("a flipped bit in the middle of the log is reported with file and offset")
    func flippedBit() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, _, offsets) = try writeLog(at: directory.path, count: 50, seed: 13)
        var bytes = try LocalFileSystem().readFile(path)
        bytes[offsets[20] + WALFormat.recordHeaderSize + 0] ^= 0x10
        try LocalFileSystem().writeNewFile(path, bytes, exclusive: false)
        #expect(throws: CairnError.corruption(file: path, offset: offsets[20], detail: "WAL record fails its checksum or is cut short")) {
            try scan(path)
        }
        // A sealed (older) file is never treated as having a torn tail.
        #expect(throws: CairnError.self) { try scan(path, isNewest: false) }
    }

    @Test("a flipped bit in a record header is corruption too, not a torn tail")
    func flippedHeaderBit() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, _, offsets) = try writeLog(at: directory.path, count: 30, seed: 17)
        var bytes = try LocalFileSystem().readFile(path)
        bytes[offsets[10] + 1] ^= 0x01 // the length field
        try LocalFileSystem().writeNewFile(path, bytes, exclusive: false)
        #expect(throws: CairnError.corruption(file: path, offset: offsets[10], detail: "WAL record fails its checksum or is cut short")) {
            try scan(path)
        }
    }

    @Test("zero-filled room after the last record is the clean end, not a torn tail")
    func zeroFilledRoom() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let (path, payloads, _) = try writeLog(at: directory.path, count: 40, seed: 19)
        let size = try LocalFileSystem().fileSize(path)
        var bytes = try LocalFileSystem().readFile(path)
        bytes += [UInt8](repeating: 0, count: 100_000)
        try LocalFileSystem().writeNewFile(path, bytes, exclusive: false)
        let (records, outcome) = try scan(path)
        #expect(records.map(\.1) == payloads)
        #expect(!outcome.tornTail)
        #expect(outcome.validLength == size)
        // Garbage from a torn write, then zeros: a torn tail.
        bytes.replaceSubrange(size..<size + 7, with: [1, 2, 3, 4, 5, 6, 7])
        try LocalFileSystem().writeNewFile(path, bytes, exclusive: false)
        let (_, torn) = try scan(path)
        #expect(torn.tornTail && torn.validLength == size)
        // A valid record after zeros is corruption: the log never has holes.
        var frame = ByteWriter()
        [9, 9, 9].withUnsafeBytes { WALFormat.appendRecord(lsn: 41, payload: $0, to: &frame) }
        bytes.replaceSubrange(size..<size + 7, with: [0, 0, 0, 0, 0, 0, 0])
        bytes.replaceSubrange(size + 5_000..<size + 5_000 + frame.count, with: frame.bytes)
        try LocalFileSystem().writeNewFile(path, bytes, exclusive: false)
        #expect(throws: CairnError.corruption(file: path, offset: size, detail: "WAL record fails its checksum or is cut short")) {
            try scan(path)
        }
    }

    @Test("the writer fills room ahead, and a clean close cuts it back to the records")
    func preallocation() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try WALWriter(fs: LocalFileSystem(), directory: directory.path, sequence: 1, validLength: nil)
        var frame = ByteWriter()
        [1, 2, 3].withUnsafeBytes { WALFormat.appendRecord(lsn: 1, payload: $0, to: &frame) }
        try frame.bytes.withUnsafeBytes { try writer.append($0) }
        try writer.sync()
        #expect(try LocalFileSystem().fileSize(writer.path) == WALFormat.fileHeaderSize + WALWriter.preallocationChunk)
        let (records, outcome) = try scan(writer.path)
        #expect(records.count == 1 && !outcome.tornTail)
        writer.close()
        #expect(try LocalFileSystem().fileSize(writer.path) == WALFormat.fileHeaderSize + frame.count)
    }
}
