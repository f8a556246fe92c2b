import CairnEngine
/// What can go wrong with a backup repository. Each case names the repository object or file
/// it is about.
public enum RepositoryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No key slot opens with the password or key file given. Nothing was written.
    case wrongKey(repository: String)
    /// `repo init` on a location that already holds a repository (or anything else).
    case alreadyExists(repository: String)
    /// The location holds no repository (no `config`).
    case notARepository(repository: String)
    /// A stored object failed its authentication tag, its id, its framing or its decompression.
    case damaged(object: String, reason: String)
    /// An object a repository structure names is not there.
    case missing(object: String)
    /// The backend could not read, write, list or delete.
    case backend(object: String, operation: String, reason: String)
    /// The repository's format is newer than this version of Cairn reads.
    case unsupportedVersion(repository: String, version: Int)
    /// Another process holds a lock that conflicts (a prune while a backup runs, or the reverse).
    case locked(repository: String, holder: RepositoryLockInfo)
    /// A request that cannot be carried out as asked (an empty password, removing the last key…).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .wrongKey(repository):
            "no key of the repository \(repository) opens with this password or key file; nothing was changed"
        case let .alreadyExists(repository):
            "\(repository) already holds a repository (or other files); a repository is only created in an empty place"
        case let .notARepository(repository):
            "\(repository) is not a Cairn repository (it has no config)"
        case let .damaged(object, reason):
            "repository object \(object) is damaged: \(reason)"
        case let .missing(object):
            "repository object \(object) is missing"
        case let .backend(object, operation, reason):
            "\(operation) of \(object) failed: \(reason)"
        case let .unsupportedVersion(repository, version):
            "the repository \(repository) has format \(version), which this version of Cairn does not read"
        case let .locked(repository, holder):
            "the repository \(repository) is locked (\(holder.exclusive ? "exclusively" : "shared")) by \(holder.operation) on host "
                + "\(holder.host), process \(holder.pid), refreshed \((Clock.milliseconds() - holder.refreshed) / 1000) s ago; wait for it "
                + "to finish. A lock not refreshed for 30 minutes, or whose process is gone, is ignored; `cairn repo unlock` removes such locks"
        case let .invalidArgument(message):
            message
        }
    }
}
