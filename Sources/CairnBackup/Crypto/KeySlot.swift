import Crypto
import _CryptoExtras
import Foundation

/// What opens a repository: a password or the contents of a key file.
public enum RepositoryCredential: Sendable, Codable {
    case password(String)
    /// A key file's bytes (`repo key add --new-key-file` writes 32 random bytes, hex encoded).
    case keyFile([UInt8])
}

/// One way into a repository, stored as `keys/<id>` in plain JSON: the master key wrapped
/// (AES-256-GCM) by a key derived from a password (scrypt, memory-hard, with its parameters
/// stored here) or from a key file (HKDF-SHA-256). Several slots may wrap the same master key.
struct KeySlot: Codable, Sendable {
    static let formatVersion = 1

    var formatVersion = KeySlot.formatVersion
    var id: String
    /// ms since the epoch.
    var createdAt: Int64
    var hostname: String
    var kind: Kind
    var kdf: KDFParameters
    /// The master key sealed by the derived key (`SealedObject` framing not used: 64 raw bytes).
    var wrappedKey: String

    enum Kind: String, Codable, Sendable {
        case password, keyFile
    }

    struct KDFParameters: Codable, Sendable, Equatable {
        /// `scrypt` or `hkdf-sha256`.
        var name: String
        var salt: String
        /// scrypt's cost (a power of two), block size and parallelism.
        var n: Int?
        var r: Int?
        var p: Int?

        /// scrypt with N = 2^15, r = 8, p = 1: 32 MiB and about a tenth of a second per try.
        static func scrypt(salt: [UInt8], logN: Int = 15) -> KDFParameters {
            KDFParameters(name: "scrypt", salt: Hex.encode(salt), n: 1 << logN, r: 8, p: 1)
        }
    }

    /// A new slot wrapping `key` for `credential`. `scryptLogN` lowers the password's cost (tests).
    static func make(wrapping key: MasterKey, for credential: RepositoryCredential, scryptLogN: Int = 15) throws -> KeySlot {
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255) }
        let kdf: KDFParameters
        let kind: Kind
        switch credential {
        case .password: (kdf, kind) = (.scrypt(salt: salt, logN: scryptLogN), .password)
        case .keyFile: (kdf, kind) = (KDFParameters(name: "hkdf-sha256", salt: Hex.encode(salt)), .keyFile)
        }
        let wrapping = try derive(credential, kdf)
        let box = try AES.GCM.seal(key.bytes, using: wrapping, authenticating: Array("cairn key slot".utf8))
        return KeySlot(id: Hex.encode((0..<16).map { _ in UInt8.random(in: 0...255) }), createdAt: Int64(Date().timeIntervalSince1970 * 1000),
                       hostname: ProcessInfo.processInfo.hostName, kind: kind, kdf: kdf, wrappedKey: Hex.encode(box.combined!))
    }

    /// The master key, or nil when `credential` is not the one this slot was made for.
    func unwrap(with credential: RepositoryCredential) throws -> MasterKey? {
        switch (kind, credential) {
        case (.password, .password), (.keyFile, .keyFile): break
        default: return nil
        }
        guard let sealed = Hex.decode(wrappedKey), let box = try? AES.GCM.SealedBox(combined: sealed) else {
            throw RepositoryError.damaged(object: "keys/\(id)", reason: "the wrapped key is not readable")
        }
        let wrapping = try Self.derive(credential, kdf)
        guard let bytes = try? AES.GCM.open(box, using: wrapping, authenticating: Array("cairn key slot".utf8)) else { return nil }
        return MasterKey(bytes: Array(bytes))
    }

    private static func derive(_ credential: RepositoryCredential, _ kdf: KDFParameters) throws -> SymmetricKey {
        guard let salt = Hex.decode(kdf.salt) else { throw RepositoryError.damaged(object: "keys", reason: "a key slot's salt is not hex") }
        switch credential {
        case let .password(password):
            guard kdf.name == "scrypt", let n = kdf.n, let r = kdf.r, let p = kdf.p, n > 1, n & (n - 1) == 0, r > 0, p > 0 else {
                throw RepositoryError.damaged(object: "keys", reason: "a key slot's scrypt parameters are not valid")
            }
            return try KDF.Scrypt.deriveKey(from: Array(password.utf8), salt: salt, outputByteCount: 32, rounds: n, blockSize: r,
                                            parallelism: p, maxMemory: 128 * n * r * p + (1 << 20))
        case let .keyFile(bytes):
            guard kdf.name == "hkdf-sha256" else { throw RepositoryError.damaged(object: "keys", reason: "unknown key derivation \(kdf.name)") }
            return HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: bytes), salt: salt,
                                          info: Array("cairn key file".utf8), outputByteCount: 32)
        }
    }
}
