import CairnEngine
import Crypto
import Foundation

/// Where one blob lives: its pack, its byte range there, and the size of its plaintext.
struct BlobLocation: Codable, Sendable, Hashable {
    var pack: String
    var offset: Int
    var length: Int
    var plaintextLength: Int
}

/// The layout of a pack file, `data/<first two hex digits>/<pack id>`:
///
/// ```
/// blob 1 | blob 2 | … | blob n        each a SealedObject of kind "blob"
/// header                              a SealedObject of kind "pack header": n × (32-byte blob id |
///                                     u64 offset | u32 sealed length | u32 plaintext length)
/// u32 header length
/// ```
/// A pack's id is the SHA-256 of its bytes, so a pack is checked against its name without a
/// key, and names reveal nothing (the bytes are ciphertext). The header makes a pack
/// self-describing: the index can be rebuilt from the packs alone.
enum PackFormat {
    static let entrySize = 32 + 8 + 4 + 4

    /// The backend name of pack `id`.
    static func objectName(_ id: String) -> String { "data/\(id.prefix(2))/\(id)" }

    struct Entry: Equatable {
        var id: String
        var offset: Int
        var length: Int
        var plaintextLength: Int
    }

    /// The sealed header and its length field, to append after the blobs.
    static func trailer(_ entries: [Entry], key: MasterKey) -> [UInt8] {
        var header = ByteWriter(capacity: entries.count * entrySize)
        for entry in entries {
            header.write(raw: Hex.decode(entry.id)!)
            header.write(UInt64(entry.offset))
            header.write(UInt32(entry.length))
            header.write(UInt32(entry.plaintextLength))
        }
        var trailer = ByteWriter()
        let sealed = SealedObject.seal(header.bytes, kind: "pack header", key: key)
        trailer.write(raw: sealed)
        trailer.write(UInt32(sealed.count))
        return trailer.bytes
    }

    /// The entries of a pack, from its trailer; `name` is for errors.
    static func entries(ofPack pack: [UInt8], key: MasterKey, name: String) throws -> [Entry] {
        guard pack.count >= 4 else { throw RepositoryError.damaged(object: name, reason: "shorter than its header length") }
        let headerLength = pack.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: pack.count - 4, as: UInt32.self))) }
        guard headerLength + 4 <= pack.count else { throw RepositoryError.damaged(object: name, reason: "its header length is past its start") }
        let header = try SealedObject.open(Array(pack[(pack.count - 4 - headerLength)..<(pack.count - 4)]), kind: "pack header", key: key, name: name)
        guard header.count % entrySize == 0 else { throw RepositoryError.damaged(object: name, reason: "its header has a partial entry") }
        return try header.withUnsafeBytes { raw in
            var reader = ByteReader(raw)
            return try (0..<(header.count / entrySize)).map { _ in
                let id = Hex.encode(try reader.readRaw(count: 32))
                return Entry(id: id, offset: Int(try reader.read(UInt64.self)), length: Int(try reader.read(UInt32.self)),
                             plaintextLength: Int(try reader.read(UInt32.self)))
            }
        }
    }

    /// The id of a pack with these bytes.
    static func id(of pack: [UInt8]) -> String { Hex.encode(SHA256.hash(data: pack)) }
}
