import Foundation

/// The repository's settings, sealed under the master key as the object `config` (so only a
/// key holder can read even the settings). Written once by `repo init`.
struct RepositoryConfig: Codable, Sendable, Equatable {
    static let formatVersion = 1

    var formatVersion = RepositoryConfig.formatVersion
    /// A random id that names this repository in backups' records and in messages.
    var id: String
    /// ms since the epoch.
    var createdAt: Int64
    /// New files are stored in parts of at most this many bytes.
    var partBytes = 4 << 20
    /// Parts are packed together into pack files of about this size.
    var packBytes = 16 << 20
    var compression = "zstd"
    var cipher = "aes-256-gcm"
    var blobNaming = "hmac-sha256"
}
