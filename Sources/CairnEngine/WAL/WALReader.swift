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

    /// The damaged end of the newest file after a crash: the bytes from `start` to `end` (the
    /// last non-zero byte + 1), and how many records with an intact header they begin.
    struct TornTail: Equatable {
        var start: Int
        var end: Int
        var recordHeaders: Int
    }

    /// The result of a scan: where valid records end, a torn tail if there is one, and the
    /// control record that ends the file (a seal or a clean close), if one does.
    struct Outcome {
        var validLength: Int
        var torn: TornTail?
        var finalControl: WALFormat.Control?
        var tornTail: Bool { torn != nil }
    }

    /// Calls `body` for every valid mutation record in order and returns where the valid part ends.
    func scan(_ body: (_ lsn: UInt64, _ payload: UnsafeRawBufferPointer, _ offset: Int) throws -> Void) throws -> Outcome {
        guard bytes.count >= WALFormat.fileHeaderSize, Array(bytes[0..<8]) == WALFormat.magic,
              WALFormat.readableVersions.contains(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian) else {
            if isNewest && !containsValidRecord(after: 0) { return Outcome(validLength: 0, torn: tornTail(from: 0)) }
            throw CairnError.corruption(file: path, offset: 0, detail: "not a Cairn WAL file (bad header or unknown version)")
        }
        var offset = WALFormat.fileHeaderSize
        var finalControl: WALFormat.Control?
        while offset < bytes.count {
            if isNewest && isZero(from: offset) { return Outcome(validLength: offset, torn: nil, finalControl: finalControl) }
            guard let payload = record(at: offset) else {
                if isNewest && !containsValidRecord(after: offset) { return Outcome(validLength: offset, torn: tornTail(from: offset)) }
                throw CairnError.corruption(file: path, offset: offset, detail: "WAL record fails its checksum or is cut short")
            }
            let lsn = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt64.self).littleEndian
            if lsn == WALFormat.controlLSN {
                guard let control = WALFormat.Control(payload: payload) else {
                    throw CairnError.corruption(file: path, offset: offset, detail: "unknown WAL control record")
                }
                finalControl = control
            } else {
                finalControl = nil
                try body(lsn, payload, offset)
            }
            offset += WALFormat.recordHeaderSize + payload.count
        }
        return Outcome(validLength: offset, torn: nil, finalControl: finalControl)
    }

    /// The payload of the record at `offset` if its header and payload checksums hold.
    private func record(at offset: Int) -> UnsafeRawBufferPointer? {
        guard let length = payloadLength(at: offset) else { return nil }
        let start = offset + WALFormat.recordHeaderSize
        guard bytes.count - start >= length else { return nil }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[start..<start + length])
        let payloadCRC = bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self).littleEndian
        return CRC32C.checksum(payload) == payloadCRC ? payload : nil
    }

    /// The payload length in the record header at `offset`, if the header's checksum holds.
    private func payloadLength(at offset: Int) -> Int? {
        guard offset >= 0, bytes.count - offset >= WALFormat.recordHeaderSize else { return nil }
        let header = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + 16])
        let headerCRC = bytes.loadUnaligned(fromByteOffset: offset + 16, as: UInt32.self).littleEndian
        guard CRC32C.checksum(header) == headerCRC else { return nil }
        return Int(bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
    }

    /// Describes the damaged bytes from `start`: where the non-zero part ends and how many
    /// records with an intact header begin there.
    private func tornTail(from start: Int) -> TornTail {
        var end = bytes.count
        while end > start && bytes[end - 1] == 0 { end -= 1 }
        var headers = 0
        var offset = max(start, WALFormat.fileHeaderSize)
        while offset < end, let length = payloadLength(at: offset) {
            headers += 1
            offset += WALFormat.recordHeaderSize + length
        }
        return TornTail(start: start, end: end, recordHeaders: headers)
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
