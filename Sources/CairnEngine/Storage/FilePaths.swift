import Foundation

/// Path arithmetic on the local file system (no I/O but resolving links).
package enum FilePaths {
    /// The directory part of `path`: `.` for a bare name, `/` for a name in the root.
    /// (Worked out here: Foundation's `deletingLastPathComponent` traps on a bare name on Linux.)
    package static func parent(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        var parent = trimmed[..<slash]
        while parent.count > 1 && parent.hasSuffix("/") { parent = parent.dropLast() }
        return parent.isEmpty ? "/" : String(parent)
    }

    /// The last component of `path`.
    package static func name(of path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    /// `path` without trailing slashes, `.` and `..` components (as written; links are not followed).
    package static func normalized(_ path: String) -> String {
        let standardized = (path as NSString).standardizingPath
        return standardized.isEmpty ? path : standardized
    }

    /// `path` made absolute against the working directory, normalised.
    package static func absolute(_ path: String) -> String {
        normalized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
    }

    /// Whether `path` is `directory` or lies inside it, comparing real paths: symbolic links
    /// are resolved for the part of `path` that exists.
    package static func isInside(_ path: String, _ directory: String) -> Bool {
        func real(_ path: String) -> String {
            var existing = absolute(path)
            var rest: [String] = []
            while access(existing, F_OK) != 0, existing != "/" {
                rest.insert(name(of: existing), at: 0)
                existing = parent(of: existing)
            }
            let resolved = realpath(existing, nil).map { pointer in defer { free(pointer) }; return String(cString: pointer) } ?? existing
            return normalized(([resolved] + rest).joined(separator: "/"))
        }
        let inner = real(path), outer = real(directory)
        return inner == outer || inner.hasPrefix(outer.hasSuffix("/") ? outer : outer + "/")
    }
}
