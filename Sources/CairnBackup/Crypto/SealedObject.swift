import CairnEngine
import Crypto
import Foundation

/// How every repository object is stored: compressed with zstd (unless that does not shrink
/// it), then sealed with AES-256-GCM under the master key.
///
/// ```
/// sealed = nonce (12 bytes) | ciphertext | tag (16 bytes)
/// plaintext of the seal = u8 codec (0 stored, 1 zstd) | u64 original length | body
/// ```
/// The associated data is the object's kind (`config`, `blob`, `backup`, …): an object moved
/// to a place of another kind fails its tag instead of being misread.
enum SealedObject {
    enum Codec: UInt8 {
        case stored = 0, zstd = 1
    }

    /// Bytes a seal adds around the body: nonce, codec, length, tag.
    static let overhead = 12 + 1 + 8 + 16

    static func seal(_ plaintext: UnsafeRawBufferPointer, kind: String, key: MasterKey) -> [UInt8] {
        let compressed = Zstd.compress(plaintext)
        let useZstd = compressed.count < plaintext.count
        var framed = ByteWriter(capacity: 9 + (useZstd ? compressed.count : plaintext.count))
        framed.write((useZstd ? Codec.zstd : Codec.stored).rawValue)
        framed.write(UInt64(plaintext.count))
        if useZstd { framed.write(raw: compressed) } else { framed.write(raw: plaintext) }
        // AES-GCM with a random 96-bit nonce; sealing cannot fail for a valid key and nonce.
        let box = try! AES.GCM.seal(framed.bytes, using: key.encryption, authenticating: Array(kind.utf8))
        return Array(box.combined!)
    }

    static func seal(_ plaintext: [UInt8], kind: String, key: MasterKey) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, kind: kind, key: key) }
    }

    /// The plaintext of a sealed object; `name` is for the error that says which object failed.
    static func open(_ sealed: [UInt8], kind: String, key: MasterKey, name: String) throws -> [UInt8] {
        let framed: Data
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            framed = try AES.GCM.open(box, using: key.encryption, authenticating: Array(kind.utf8))
        } catch {
            throw RepositoryError.damaged(object: name, reason: "it fails its authentication tag (altered, truncated, or sealed with another key)")
        }
        return try framed.withUnsafeBytes { raw in
            guard raw.count >= 9, let codec = Codec(rawValue: raw[0]) else {
                throw RepositoryError.damaged(object: name, reason: "unknown codec")
            }
            let length = Int(raw.loadUnaligned(fromByteOffset: 1, as: UInt64.self).littleEndian)
            let body = UnsafeRawBufferPointer(rebasing: raw[9...])
            switch codec {
            case .stored:
                guard body.count == length else { throw RepositoryError.damaged(object: name, reason: "length disagrees with its header") }
                return Array(body)
            case .zstd:
                do { return try Zstd.decompress(body, expectedSize: length) } catch let error as ZstdError {
                    throw RepositoryError.damaged(object: name, reason: "zstd: \(error.reason)")
                }
            }
        }
    }
}
