import Foundation

/// Source paths as the CLI takes them: made absolute against the working directory, and
/// checked for existence (a missing one is declared anyway, with a warning).
enum SourcePaths {
    /// `paths` made absolute and standardised (`./corpus/` → `/home/me/corpus`).
    static func absolute(_ paths: [String]) -> [String] {
        paths.map { path in
            let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
            let standardized = URL(fileURLWithPath: absolute).standardizedFileURL.path
            return standardized.count > 1 && standardized.hasSuffix("/") ? String(standardized.dropLast()) : standardized
        }
    }

    /// Warns on standard error about every path that does not exist now.
    static func warnAboutMissing(_ paths: [String]) {
        for path in paths where !FileManager.default.fileExists(atPath: path) {
            Output.note("warning: source \(path) does not exist (yet); a backup records it as missing until it does\n")
        }
    }
}
