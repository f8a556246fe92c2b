import CCairnSupport

/// CRC32C (Castagnoli): the checksum of every WAL record, segment block and manifest.
package enum CRC32C {
    /// The checksum of `bytes`, optionally extending an earlier one.
    @inlinable
    package static func checksum(_ bytes: UnsafeRawBufferPointer, extending crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return cairn_crc32c_extend(crc, base, bytes.count)
    }

    /// The checksum of a byte array.
    @inlinable
    package static func checksum(_ bytes: [UInt8], extending crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, extending: crc) }
    }

    /// Whether the SSE4.2 instruction is used.
    package static var isHardwareAccelerated: Bool { cairn_crc32c_is_hardware() != 0 }
}
