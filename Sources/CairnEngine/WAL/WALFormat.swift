/// The on-disk format of a WAL file (`wal/<sequence>.log`).
///
/// ```
/// file header (16 bytes): "CAIRNWAL" | u32 version (2) | u32 reserved (0)
/// record:                 u32 payload length | u64 LSN | u32 CRC32C(payload) | u32 CRC32C(first 16 header bytes)
///                         payload (a `Mutation`)
/// control record:         the same frame with LSN = 2^64 - 1; payload u8 kind | u64 value:
///                         kind 1 "sealed": the log continues in WAL file `value` (the last record of a sealed file)
///                         kind 2 "closed": the database was closed cleanly after LSN `value`
/// ```
/// Records are appended and never rewritten. The separate header checksum lets recovery tell a
/// torn tail (nothing valid after the damage) from corruption in the middle (valid records follow).
/// The control records close the two gaps checksums cannot: a sealed file names its successor,
/// so a deleted newest file is noticed, and a clean close leaves a valid record after the last
/// mutation, so damage to that mutation is corruption, never mistaken for a torn write.
/// Version 1 files (no control records) are read as they are.
enum WALFormat {
    static let magic: [UInt8] = Array("CAIRNWAL".utf8)
    static let version: UInt32 = 2
    static let readableVersions: ClosedRange<UInt32> = 1...2
    static let fileHeaderSize = 16
    static let recordHeaderSize = 20
    /// The LSN field of a control record.
    static let controlLSN = UInt64.max

    /// What a control record says.
    enum Control: Equatable {
        /// The file is sealed; the log continues in WAL file `next`.
        case sealed(next: Int)
        /// The database was closed cleanly; `lastLSN` was the last mutation.
        case closed(lastLSN: UInt64)

        var payload: [UInt8] {
            var writer = ByteWriter(capacity: 9)
            switch self {
            case let .sealed(next):
                writer.write(UInt8(1))
                writer.write(UInt64(next))
            case let .closed(lastLSN):
                writer.write(UInt8(2))
                writer.write(lastLSN)
            }
            return writer.bytes
        }

        init?(payload: UnsafeRawBufferPointer) {
            guard payload.count == 9 else { return nil }
            let value = payload.loadUnaligned(fromByteOffset: 1, as: UInt64.self).littleEndian
            switch payload[0] {
            case 1: self = .sealed(next: Int(truncatingIfNeeded: value))
            case 2: self = .closed(lastLSN: value)
            default: return nil
            }
        }
    }

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

    /// One framed control record.
    static func controlRecord(_ control: Control) -> [UInt8] {
        var writer = ByteWriter(capacity: recordHeaderSize + 9)
        control.payload.withUnsafeBytes { appendRecord(lsn: controlLSN, payload: $0, to: &writer) }
        return writer.bytes
    }

    private static let names = NumberedFileName(suffix: ".log")

    /// The file name of WAL file number `sequence`.
    static func fileName(_ sequence: Int) -> String { names.name(sequence) }

    /// The sequence number in a WAL file name, or nil for other files.
    static func sequence(of fileName: String) -> Int? { names.number(in: fileName) }
}
