import Cairn

/// What to type next, for the errors where the CLI knows: the engine's messages describe the
/// problem; the commands and flags that fix it belong to the command line.
enum ErrorAdvice {
    static func hint(for error: CairnError) -> String? {
        switch error {
        case .notADatabase: "check --data, or start a database there with cairn collection create"
        case let .currentMissing(_, _, candidate?):
            "if that manifest is the state you expect, `cairn repair current \(candidate)` makes it current; restoring a backup or rolling back a copy are the other ways out"
        case .tenantInactive: "cairn tenant activate"
        case .tenantRequired: "add --tenant NAME"
        case .userExists: "add --replace to replace the user"
        case .snapshotNotFound: "cairn snapshot list shows the snapshots"
        case let .snapshotDamaged(id, _): "cairn snapshot verify \(id) lists every problem"
        case .snapshotOfAnotherDatabase: "cairn snapshot clone makes a new database from it"
        case .storageSnapshotInProgress: "cairn storage-snapshot end"
        case .noStorageSnapshot: "cairn storage-snapshot begin opens one"
        default: nil
        }
    }

    /// The error's message with its hint, for people.
    static func message(for error: CairnError) -> String {
        hint(for: error).map { "\(error.description); \($0)" } ?? error.description
    }
}
