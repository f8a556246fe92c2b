import Foundation

/// A named pipe (FIFO) a test writes into while a process reads it, so that process stays
/// running (holding a database open) for as long as the test needs.
public enum NamedPipe {
    /// Creates the pipe at `path`.
    public static func create(_ path: String) throws {
        guard mkfifo(path, 0o600) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }

    /// Opens the pipe's writing end, which waits until a reader opens the other end; the wait
    /// runs on a thread of its own.
    public static func openForWriting(_ path: String) async throws -> FileHandle {
        try await onOwnThread {
            guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
            return handle
        }
    }
}
