import Foundation

/// Every error Cairn reports: what went wrong and where, with a message a person can act on.
public enum CairnError: Error, Sendable, Equatable, Codable, CustomStringConvertible {
    // Storage
    /// A system call failed on a file; `errno` is the system's error number when there is one.
    case io(path: String, operation: String, reason: String, errno: Int32? = nil)
    /// A file's bytes do not match their checksum or format.
    case corruption(file: String, offset: Int, detail: String)
    /// Another process holds the data directory open for writing.
    case databaseLocked(path: String)
    /// The directory holds no database (and creating one was not asked for).
    case notADatabase(path: String)
    /// `CURRENT` is gone but the directory holds a database (`contents` says what); nothing was
    /// changed. `candidate` is the newest manifest that passes its checksum, if any.
    case currentMissing(directory: String, contents: String, candidate: String?)
    /// The database was closed.
    case databaseClosed
    /// A write could not be made durable; the database refuses further writes until reopened.
    case writesDisabled(reason: String)

    // Catalog
    case invalidName(kind: String, name: String, reason: String)
    case collectionNotFound(String)
    case collectionExists(String)
    case tenantNotFound(collection: String, tenant: String)
    case tenantExists(collection: String, tenant: String)
    case tenantInactive(collection: String, tenant: String)
    /// A multi-tenant collection was used without naming a tenant.
    case tenantRequired(collection: String)
    /// A tenant was named for a collection that is not multi-tenant.
    case tenantsNotEnabled(collection: String)
    case aliasNotFound(String)
    /// The name is already taken by a collection or alias.
    case nameTaken(String)
    case roleNotFound(String)
    case userNotFound(String)
    /// A user with this name exists (replacing the user would revoke their API keys).
    case userExists(name: String, apiKeys: Int)
    case invalidSchema(String)

    // Objects
    case dimensionMismatch(expected: Int, actual: Int)
    case invalidVector(String)
    case unknownProperty(collection: String, property: String)
    case typeMismatch(property: String, expected: String, actual: String)
    /// Some objects of a batch are invalid; nothing of the batch was written.
    indirect case batchRejected([ObjectValidationError])

    // Queries
    /// A filter expression that cannot be parsed or typed; `position` is a 1-based column.
    case invalidFilter(message: String, position: Int)
    case invalidArgument(String)
    /// A line of an input file (JSONL) that cannot be used; `line` is 1-based.
    case invalidInput(source: String, line: Int, reason: String)
    /// An import stopped at an invalid line; the batches before it were committed.
    case importStopped(line: Int, committed: Int, reason: String)
    case snapshotNotFound(String)
    /// A snapshot's files are missing or damaged; it cannot be rolled back to or cloned.
    case snapshotDamaged(id: String, problems: [String])
    /// A snapshot that another database took (copied in from elsewhere).
    case snapshotOfAnotherDatabase(id: String, snapshotDatabase: String, database: String)
    /// A clone's target directory exists and is not empty.
    case targetNotEmpty(path: String)
    /// `begin` while a storage-snapshot window is already open.
    case storageSnapshotInProgress(label: String)
    /// `end` with no storage-snapshot window open.
    case noStorageSnapshot

    /// The case's name (`corruption`, `collectionNotFound`): a stable word for scripts.
    public var kind: String {
        if let label = Mirror(reflecting: self).children.first?.label { return label }
        switch self {
        case .databaseClosed: return "databaseClosed"
        case .noStorageSnapshot: return "noStorageSnapshot"
        default: return "error"
        }
    }

    public var description: String {
        switch self {
        case let .io(path, operation, reason, _): return "\(operation) failed on \(path): \(reason)"
        case let .corruption(file, offset, detail): return "corrupt data in \(file) at offset \(offset): \(detail)"
        case let .databaseLocked(path):
            return "the data directory \(path) is open in another process (its LOCK is held); close that process first"
        case let .notADatabase(path):
            return "\(path) is not a Cairn data directory (it has no CURRENT file)"
        case let .currentMissing(directory, contents, candidate):
            return "\(directory)/CURRENT is missing, but the directory holds a database (\(contents)); nothing was changed. "
                + (candidate.map { "The newest manifest that passes its checksum is manifests/\($0)" }
                   ?? "No manifest passes its checksum: restore from a backup or a copy")
        case .databaseClosed: return "the database is closed"
        case let .writesDisabled(reason): return "writes are disabled until the database is reopened: \(reason)"
        case let .invalidName(kind, name, reason): return "invalid \(kind) name '\(name)': \(reason)"
        case let .collectionNotFound(name): return "no collection or alias named '\(name)'"
        case let .collectionExists(name): return "a collection named '\(name)' already exists"
        case let .tenantNotFound(collection, tenant): return "collection '\(collection)' has no tenant '\(tenant)'"
        case let .tenantExists(collection, tenant): return "collection '\(collection)' already has a tenant '\(tenant)'"
        case let .tenantInactive(collection, tenant):
            return "tenant '\(tenant)' of '\(collection)' is inactive; activate it first"
        case let .tenantRequired(collection): return "collection '\(collection)' is multi-tenant: name a tenant"
        case let .tenantsNotEnabled(collection): return "collection '\(collection)' is not multi-tenant: do not name a tenant"
        case let .aliasNotFound(name): return "no alias named '\(name)'"
        case let .nameTaken(name): return "the name '\(name)' is already used by a collection or an alias"
        case let .roleNotFound(name): return "no role named '\(name)'"
        case let .userNotFound(name): return "no user named '\(name)'"
        case let .userExists(name, apiKeys):
            return "a user named '\(name)' exists; replacing the user would revoke their \(apiKeys) API key\(apiKeys == 1 ? "" : "s")"
        case let .invalidSchema(reason): return "invalid schema: \(reason)"
        case let .dimensionMismatch(expected, actual): return "vector has \(actual) dimensions, the collection expects \(expected)"
        case let .invalidVector(reason): return "invalid vector: \(reason)"
        case let .unknownProperty(collection, property):
            return "collection '\(collection)' has no property '\(property)'"
        case let .typeMismatch(property, expected, actual):
            return "property '\(property)' expects \(expected), got \(actual)"
        case let .batchRejected(errors):
            let shown = errors.prefix(5).map(\.description).joined(separator: "; ")
            let more = errors.count > 5 ? " (and \(errors.count - 5) more)" : ""
            return "batch rejected, nothing written: \(shown)\(more)"
        case let .invalidFilter(message, position): return "invalid filter at column \(position): \(message)"
        case let .invalidArgument(message): return message
        case let .invalidInput(source, line, reason): return "\(source):\(line): \(reason)"
        case let .importStopped(line, committed, reason):
            let done = committed == 0 ? "nothing was imported" : "\(committed) objects before it were imported"
            return "import stopped at line \(line): \(reason); \(done)"
        case let .snapshotNotFound(id): return "no snapshot '\(id)'"
        case let .snapshotDamaged(id, problems):
            return "snapshot \(id) is damaged, nothing was changed: \(problems.prefix(3).joined(separator: "; "))"
                + (problems.count > 3 ? " (and \(problems.count - 3) more)" : "")
        case let .snapshotOfAnotherDatabase(id, snapshotDatabase, database):
            return "snapshot \(id) was taken of database \(snapshotDatabase), not of this one (\(database)); nothing was changed. "
                + "clone it instead, or restore a backup"
        case let .targetNotEmpty(path): return "\(path) already exists and is not empty; choose a new directory"
        case let .storageSnapshotInProgress(label):
            return "a storage-snapshot window ('\(label)') is already open; end it first"
        case .noStorageSnapshot: return "no storage-snapshot window is open"
        }
    }
}

/// Why one object of a batch was refused.
public struct ObjectValidationError: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The object's position in the batch (0-based).
    public var index: Int
    /// The object's id.
    public var id: UUID
    /// What is wrong with it.
    public var error: CairnError

    /// The failure of object number `index` (from 0) of a batch, whose id is `id`.
    public init(index: Int, id: UUID, error: CairnError) {
        self.index = index
        self.id = id
        self.error = error
    }

    public var description: String { "object #\(index) (\(id.uuidString.lowercased())): \(error)" }
}
