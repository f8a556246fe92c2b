/// The on-disk format of a WAL file (`wal/<sequence>.log`).
///
/// ```
/// file header (16 bytes): "CAIRNWAL" | u32 version (1) | u32 reserved (0)
/// record:                 u32 payload length | u64 LSN | u32 CRC32C(payload) | u32 CRC32C(first 16 header bytes)
///                         payload (a `Mutation`)
/// ```
/// Records are appended and never rewritten. The separate header checksum lets recovery tell a
/// torn tail (nothing valid after the damage) from corruption in the middle (valid records follow).
enum WALFormat {
    static let magic: [UInt8] = Array("CAIRNWAL".utf8)
    static let version: UInt32 = 1
    static let fileHeaderSize = 16
    static let recordHeaderSize = 20

    static var fileHeader: [UInt8] {
        var writer = ByteWriter(capacity: fileHeaderSize)
        writer.write(raw: magic)
        writer.write(version)
        writer.write(UInt32(0))
        return writer.bytes
    }

    /// Appends one framed record to `writer`.
    static func appendRecord(lsn: UInt64, payload: UnsafeRawBufferPointer, to writer: inout ByteWriter) {
        let start = writer.count
        writer.write(UInt32(payload.count))
        writer.write(lsn)
        writer.write(CRC32C.checksum(payload))
        let headerCRC = writer.bytes.withUnsafeBytes {
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[start..<start + 16]))
        }
        writer.write(headerCRC)
        writer.write(raw: payload)
    }

    /// The file name of WAL file number `sequence`.
    static func fileName(_ sequence: Int) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits + ".log"
    }

    /// The sequence number in a WAL file name, or nil for other files.
    static func sequence(of fileName: String) -> Int? {
        guard fileName.hasSuffix(".log") else { return nil }
        return Int(fileName.dropLast(4))
    }
}
