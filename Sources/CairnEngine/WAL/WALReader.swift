/// Reads the records of one WAL file and decides where its valid part ends.
///
/// In the newest file, zeros after the last record are the room the writer filled ahead: the
/// clean end of the log. A record that fails its checks there is a *torn tail* when no valid
/// record follows it anywhere later in the file; the valid length then ends before it.
/// Anything else is corruption, reported with the file and the offset.
struct WALReader {
    let path: String
    let bytes: UnsafeRawBufferPointer
    /// Whether this is the newest WAL file, the only one that may end in a torn write.
    let isNewest: Bool

    /// The result of a scan: where valid records end, and whether a torn tail was found.
    struct Outcome {
        var validLength: Int
        var tornTail: Bool
    }

    /// Calls `body` for every valid record in order and returns where the valid part ends.
    func scan(_ body: (_ lsn: UInt64, _ payload: UnsafeRawBufferPointer, _ offset: Int) throws -> Void) throws -> Outcome {
        guard bytes.count >= WALFormat.fileHeaderSize,
              Array(bytes[0..<8]) == WALFormat.magic else {
            if isNewest && !containsValidRecord(after: 0) { return Outcome(validLength: 0, tornTail: true) }
            throw CairnError.corruption(file: path, offset: 0, detail: "not a Cairn WAL file (bad header)")
        }
        var offset = WALFormat.fileHeaderSize
        while offset < bytes.count {
            if isNewest && isZero(from: offset) { return Outcome(validLength: offset, tornTail: false) }
            guard let payload = record(at: offset) else {
                if isNewest && !containsValidRecord(after: offset) { return Outcome(validLength: offset, tornTail: true) }
                throw CairnError.corruption(file: path, offset: offset, detail: "WAL record fails its checksum or is cut short")
            }
            let lsn = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt64.self).littleEndian
            try body(lsn, payload, offset)
            offset += WALFormat.recordHeaderSize + payload.count
        }
        return Outcome(validLength: offset, tornTail: false)
    }

    /// The payload of the record at `offset` if its header and payload checksums hold.
    private func record(at offset: Int) -> UnsafeRawBufferPointer? {
        guard bytes.count - offset >= WALFormat.recordHeaderSize else { return nil }
        let header = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 16])
        let headerCRC = bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self).littleEndian
        guard CRC32C.checksum(header) == headerCRC else { return nil }
        let length = Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
        let start = offset + WALFormat.recordHeaderSize
        guard bytes.count - start >= length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
        let payloadCRC = bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self).littleEndian
        return CRC32C.checksum(payload) == payloadCRC ? payload : nil
    }

    /// Whether every byte from `offset` to the end is zero.
    private func isZero(from offset: Int) -> Bool {
        var index = offset
        while index + 8 <= bytes.count {
            if bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) != 0 { return false }
            index += 8
        }
        while index < bytes.count {
            if bytes[index] != 0 { return false }
            index += 1
        }
        return true
    }

    /// Whether any valid record starts after `offset` (a sign of corruption, not of a torn write).
    private func containsValidRecord(after offset: Int) -> Bool {
        var candidate = offset + 1
        while candidate + WALFormat.recordHeaderSize <= bytes.count {
            // LSNs start at 1, so a zero LSN field (as in zero-filled room) cannot start a record.
            if bytes.loadUnaligned(fromByteOffset: candidate + 4, as: UInt64.self) != 0, record(at: candidate) != nil { return true }
            candidate += 1
        }
        return false
    }
}
