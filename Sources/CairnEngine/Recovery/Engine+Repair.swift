extension Engine {
    /// Makes manifest `name` (a file in `manifests/`, such as `000042.json`) the live one of a
    /// database whose `CURRENT` is missing or unusable. The directory is checked as it would
    /// open with that manifest first (segments, WAL chain); `CURRENT` is written only when the
    /// check passes, so a wrong choice changes nothing. Refuses when `CURRENT` is intact.
    package static func repairCurrent(at directory: String, manifest name: String,
                                     options: EngineOptions = EngineOptions()) async throws -> VerifyReport {
        let fs = options.fileSystem
        return try await runBlocking {
            let lock = try fs.lockDirectory(directory)
            defer { lock.release() }
            let store = ManifestStore(fs: fs, directory: directory)
            if fs.exists(store.currentPath), (try? store.loadCurrent()) != nil {
                throw CairnError.invalidArgument("\(store.currentPath) names a valid manifest; there is nothing to repair")
            }
            let fileName = name.hasPrefix("manifests/") ? String(name.dropFirst("manifests/".count)) : name
            guard Manifest.sequence(of: fileName) != nil else {
                throw CairnError.invalidArgument("'\(name)' is not a manifest name (like 000042.json; ls \(store.manifestsDirectory))")
            }
            let path = store.manifestsDirectory + "/" + fileName
            guard fs.exists(path) else { throw CairnError.io(path: path, operation: "open", reason: "no such file") }
            let manifest = try Manifest.decode(try fs.readFile(path), path: path)
            let report = DirectoryVerifier.verify(directory, fs: fs, manifest: manifest)
            guard report.isConsistent else {
                throw CairnError.corruption(file: path, offset: 0, detail: "with this manifest the database would not open: "
                    + report.problems.map(\.description).joined(separator: "; "))
            }
            try fs.atomicReplace(store.currentPath, with: Array("manifests/\(fileName)\n".utf8))
            return report
        }
    }
}
