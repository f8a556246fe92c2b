import CCairnSupport
import Foundation
import Logging
import Synchronization

/// The control socket of an open database: `control.sock` in the data directory, owner-only,
/// through which `cairn` commands of the same user reach the process that holds the database.
/// Connections of another user are refused (the peer's uid is checked, beside the socket's
/// permissions). Each connection is served on a thread of its own, one request at a time; a
/// client that hangs up mid-request has that request cancelled, and only that one.
final class ControlServer: Sendable {
    /// The socket's name in the data directory.
    static let socketName = "control.sock"

    let path: String
    private let listener: Int32
    private let handler: Mutex<ControlHandler?>
    private let connections = Mutex<Set<Int32>>([])
    private let logger: Logger

    /// Starts listening for `database`, or returns nil (with a warning) when the socket cannot
    /// be made. A socket file already there was left by a process that is gone: this process
    /// holds the directory's lock, so no live holder can be listening on it.
    static func start(for database: Database, logger: Logger) -> ControlServer? {
        let path = FilePaths.absolute(database.directory) + "/" + socketName
        do {
            return try ControlServer(path: path, handler: ControlHandler(database: database), logger: logger)
        } catch {
            logger.warning("no control socket: cairn commands cannot reach this process while it holds the database",
                           metadata: ["path": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    private init(path: String, handler: ControlHandler, logger: Logger) throws {
        self.path = path
        self.handler = Mutex(handler)
        self.logger = logger
        unlink(path)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ControlError(kind: "io", message: "socket: \(String(cString: strerror(errno)))") }
        do {
            try ControlAddress.withAddress(of: path) { address, length in
                guard bind(descriptor, address, length) == 0 else { throw ControlError(kind: "io", message: "bind \(path): \(String(cString: strerror(errno)))") }
            }
            guard chmod(path, 0o600) == 0, listen(descriptor, 16) == 0 else {
                throw ControlError(kind: "io", message: "listen on \(path): \(String(cString: strerror(errno)))")
            }
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        listener = descriptor
        let thread = Thread { [self] in acceptConnections() }
        thread.name = "cairn.control"
        thread.start()
    }

    /// Stops accepting, hangs up every connection, and removes the socket file.
    func stop() {
        handler.withLock { $0 = nil }
        unlink(path)
        shutdown(listener, Int32(SHUT_RDWR))
        for connection in connections.withLock({ $0 }) { shutdown(connection, Int32(SHUT_RDWR)) }
    }

    private func acceptConnections() {
        defer { close(listener) }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            guard handler.withLock({ $0 }) != nil else {
                close(connection)
                return
            }
            connections.withLock { _ = $0.insert(connection) }
            let thread = Thread { [self] in
                serve(connection)
                connections.withLock { _ = $0.remove(connection) }
                close(connection)
            }
            thread.name = "cairn.control.connection"
            thread.start()
        }
    }

    /// Answers the requests of one connection until it closes.
    private func serve(_ connection: Int32) {
        guard ControlAddress.peerUID(of: connection) == geteuid() else {
            logger.warning("refused a control connection from another user", metadata: ["socket": "\(path)"])
            try? ControlFraming.write(ControlFraming.encode(ControlEnvelope(error: ControlError(
                kind: "permission", message: "this database's control socket serves only the user that opened it"))), to: connection)
            return
        }
        let reader = ControlLineReader(descriptor: connection)
        while let line = try? reader.next() {
            let reply: [UInt8]
            do {
                let envelope = try ControlFraming.decode(line)
                guard let request = envelope.request else { throw ControlError(kind: "protocol", message: "a control message without a request") }
                guard let handler = handler.withLock({ $0 }) else { throw ControlError(kind: "databaseClosed", message: "the database is closing") }
                let result = try handler.handleAtOnce(request)
                    ?? run({ try await handler.handle(request, stream: Self.stream(to: connection)) }, cancellingWhenHungUp: connection)
                reply = ControlFraming.encodeReply(result: result)
            } catch {
                guard let encoded = try? ControlFraming.encode(ControlEnvelope(error: ControlError(error))) else { return }
                reply = encoded
            }
            guard (try? ControlFraming.write(reply, to: connection)) != nil else { return }
        }
    }

    /// Writes a request's chunks and progress reports to `connection`, one message at a time
    /// (progress may be reported from several tasks at once). A progress report that cannot be
    /// written is dropped: the hang-up is noticed by the request's watcher.
    private static func stream(to connection: Int32) -> ControlReplyStream {
        let writing = Mutex<Void>(())
        return ControlReplyStream(
            chunk: { bytes in try writing.withLock { _ in try ControlFraming.write(ControlFraming.encodeChunk(bytes), to: connection) } },
            progress: { report in writing.withLock { _ in _ = try? ControlFraming.write(ControlFraming.encodeProgress(report), to: connection) } })
    }

    /// Runs `body` to completion on the concurrency pool, polling `connection` meanwhile: when
    /// the client hangs up, the task is cancelled and this throws.
    private func run(_ body: @escaping @Sendable () async throws -> String, cancellingWhenHungUp connection: Int32) throws -> String {
        let outcome = Mutex<Result<String, Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        let task = Task {
            let result: Result<String, Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            outcome.withLock { $0 = result }
            done.signal()
        }
        while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
            if cairn_socket_peer_hung_up(connection) != 0 {
                task.cancel()
                throw ControlError(kind: "cancelled", message: "the client hung up")
            }
        }
        return try outcome.withLock { $0! }.get()
    }
}

/// Socket addresses and peer credentials of Unix-domain sockets.
enum ControlAddress {
    /// Calls `body` with the `sockaddr_un` of `path`, or throws when the path is too long for one.
    static func withAddress<T>(of path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw ControlError(kind: "invalidArgument", message: "the socket path \(path) is longer than \(MemoryLayout.size(ofValue: address.sun_path) - 1) bytes")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return try withUnsafePointer(to: &address) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    /// The user id of the process at the other end of `connection`, or nil.
    static func peerUID(of connection: Int32) -> uid_t? {
        let uid = cairn_socket_peer_uid(connection)
        return uid < 0 ? nil : uid_t(uid)
    }
}
