import Foundation

/// Reads a file, a pipe or standard input (`-`) line by line in large chunks, counting lines
/// from 1 and bytes read. It reads the source once, front to back, so streams work.
struct LineReader {
    private let handle: FileHandle
    private let ownsHandle: Bool
    private var buffer: [UInt8] = []
    private var start = 0
    private var finished = false
    /// The number of the line returned last (1-based).
    private(set) var lineNumber = 0
    private(set) var bytesRead = 0
    /// The size of a regular file (nil for pipes and standard input, whose size is not known).
    let totalBytes: Int?

    /// Opens `path` for reading; `-` is standard input. A directory or a missing file is an
    /// `io` error naming it.
    init(path: String) throws {
        if path == "-" {
            handle = .standardInput
            ownsHandle = false
            totalBytes = nil
            return
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw CairnError.io(path: path, operation: "open", reason: String(cString: strerror(errno)), errno: errno)
        }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw CairnError.io(path: path, operation: "open", reason: "is a directory, not a file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CairnError.io(path: path, operation: "open", reason: "permission denied")
        }
        self.handle = handle
        ownsHandle = true
        totalBytes = (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : nil
    }

    /// The next line without its line break, or nil at the end of the input.
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
            buffer.removeFirst(start)
            start = 0
            // One read(2): what a pipe holds now, so lines are handled as they arrive (a
            // Foundation read waits until it has filled the whole chunk).
            let count = try readChunk(appendingTo: &buffer, upTo: 1 << 20)
            bytesRead += count
            if count == 0 { finished = true }
        }
    }

    /// Appends one `read(2)` of at most `limit` bytes to `buffer`; the number read (0 at the end).
    private func readChunk(appendingTo buffer: inout [UInt8], upTo limit: Int) throws -> Int {
        let old = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: limit))
        while true {
            let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress! + old, limit) }
            if count < 0 && errno == EINTR { continue }
            buffer.removeLast(limit - max(count, 0))
            guard count >= 0 else {
                throw CairnError.io(path: "the input", operation: "read", reason: String(cString: strerror(errno)), errno: errno)
            }
            return count
        }
    }

    func close() { if ownsHandle { try? handle.close() } }
}
