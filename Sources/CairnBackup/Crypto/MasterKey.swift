import Crypto
import Foundation

/// The key of one repository, made at random by `repo init` and never stored in the clear:
/// key slots hold it wrapped. It seals every object (AES-256-GCM) and names every blob (a keyed
/// hash, HMAC-SHA-256 of the plaintext, so names reveal nothing of the content).
struct MasterKey: Sendable {
    /// The 64 bytes a key slot wraps: 32 for encryption, then 32 for naming.
    let bytes: [UInt8]

    /// A new random key.
    static func random() -> MasterKey {
        var generator = SystemRandomNumberGenerator()
        return MasterKey(bytes: (0..<64).map { _ in UInt8.random(in: 0...255, using: &generator) })!
    }

    init?(bytes: [UInt8]) {
        guard bytes.count == 64 else { return nil }
        self.bytes = bytes
    }

    var encryption: SymmetricKey { SymmetricKey(data: bytes[0..<32]) }
    var naming: SymmetricKey { SymmetricKey(data: bytes[32..<64]) }

    /// The seed of this repository's content-defined chunker: derived from the key, so chunk
    /// boundaries (and with them chunk sizes) reveal nothing to someone without it.
    var chunkerSeed: [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array("cairn content-defined chunking".utf8), using: naming))
    }

    /// The id of a blob with this plaintext: 64 hex digits.
    func id(of plaintext: UnsafeRawBufferPointer) -> String {
        Hex.encode(Array(HMAC<SHA256>.authenticationCode(for: plaintext, using: naming)))
    }
}

/// Lower-case hexadecimal (blob ids, key files).
package enum Hex {
    package static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    package static func decode(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
