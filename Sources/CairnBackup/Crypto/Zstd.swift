import CZstd

/// zstd compression of repository objects (the system's libzstd).
enum Zstd {
    /// The level objects are compressed at: fast, and most of the ratio of higher levels on the
    /// data a database holds (vectors compress little; ids, properties and graphs more).
    static let level: Int32 = 3

    /// `bytes` compressed into one zstd frame.
    static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = level) -> [UInt8] {
        let bound = ZSTD_compressBound(bytes.count)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            let written = ZSTD_compress(buffer.baseAddress, bound, bytes.baseAddress, bytes.count, level)
            precondition(ZSTD_isError(written) == 0, "zstd cannot fail to compress into its own bound")
            count = written
        }
    }

    /// The content of one zstd frame, which must decompress to exactly `expectedSize` bytes.
    static func decompress(_ frame: UnsafeRawBufferPointer, expectedSize: Int) throws(ZstdError) -> [UInt8] {
        let declared = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        guard declared == UInt64(expectedSize) else { throw ZstdError(reason: "the frame declares \(declared) bytes, \(expectedSize) were expected") }
        var written = 0
        // Not zero-filled first: zstd writes every byte it reports, and only those are kept.
        let output = [UInt8](unsafeUninitializedCapacity: expectedSize) { buffer, count in
            written = ZSTD_decompress(buffer.baseAddress, expectedSize, frame.baseAddress, frame.count)
            count = ZSTD_isError(written) != 0 ? 0 : min(written, expectedSize)
        }
        if ZSTD_isError(written) != 0 { throw ZstdError(reason: String(cString: ZSTD_getErrorName(written))) }
        guard written == expectedSize else { throw ZstdError(reason: "\(written) bytes decompressed, \(expectedSize) expected") }
        return output
    }
}

/// A zstd frame that does not decompress.
struct ZstdError: Error {
    var reason: String
}
