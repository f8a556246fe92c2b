import Foundation

/// Reads a file line by line in large chunks, counting lines from 1 and bytes read.
struct LineReader {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    /// The number of the line returned last (1-based).
    private(set) var lineNumber = 0
    private(set) var bytesRead = 0

    init(path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CairnError.io(path: path, operation: "open", reason: FileManager.default.fileExists(atPath: path)
                                ? "permission denied" : "no such file")
        }
        self.handle = handle
    }

    /// The next line without its line break, or nil at the end of the file.
    mutating func next() throws -> [UInt8]? {
        while true {
            if let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[start..<newline])
                start = newline + 1
                lineNumber += 1
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return line
            }
            if finished {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                lineNumber += 1
                return line
            }
            let chunk = try handle.read(upToCount: 1 << 20) ?? Data()
            bytesRead += chunk.count
            if chunk.isEmpty { finished = true }
            buffer.removeFirst(start)
            start = 0
            buffer.append(contentsOf: chunk)
        }
    }

    func close() { try? handle.close() }

    /// The number of line breaks in a file (a fast pass that decodes nothing).
    static func countLines(path: String) throws -> Int {
        let reader = try LineReader(path: path)
        defer { reader.close() }
        var count = 0
        while true {
            let chunk = try reader.handle.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { return count }
            count += chunk.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) }
        }
    }
}
