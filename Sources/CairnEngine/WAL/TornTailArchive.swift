/// Keeps the damaged end of a WAL file that a crash left, before recovery cuts the file back:
/// the bytes go to `wal/torn-<file>-at-<offset>.bin` (never a name recovery reads or garbage
/// collection deletes), so a torn tail is never destroyed in place and can be inspected.
enum TornTailArchive {
    static let prefix = "torn-"

    /// Writes the torn bytes of `path` to their own durable file and returns its name (nil when
    /// there are no non-zero bytes to keep).
    static func keep(_ tail: WALReader.TornTail, of path: String, fs: any FileSystem) throws -> String? {
        guard tail.end > tail.start else { return nil }
        let bytes = try fs.map(path).withBytes { Array($0[tail.start..<min(tail.end, $0.count)]) }
        let directory = String(path[..<path.lastIndex(of: "/")!])
        let name = prefix + String(path[path.index(after: path.lastIndex(of: "/")!)...]) + "-at-\(tail.start).bin"
        try fs.writeNewFile(directory + "/" + name, bytes, exclusive: false)
        try fs.syncDirectory(directory)
        return name
    }
}
