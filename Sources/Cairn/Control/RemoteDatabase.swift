import Foundation

/// A database another process holds open, reached through its control socket: the requests
/// of `ControlRequest`, answered by that process exactly as it would answer its own calls
/// (writes acknowledged when durable there).
public final class RemoteDatabase: @unchecked Sendable {
    /// The data directory.
    public let directory: String
    private let descriptor: Int32
    private let reader: ControlLineReader
    private let lock = NSLock()

    /// Connects to the control socket in `directory`, or throws saying why none answers.
    public init(directory: String) throws {
        self.directory = directory
        let path = FilePaths.absolute(directory) + "/" + ControlServer.socketName
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw ControlError(kind: "io", message: "socket: \(String(cString: strerror(errno)))") }
        do {
            try ControlAddress.withAddress(of: path) { address, length in
                guard connect(descriptor, address, length) == 0 else {
                    let reason = errno == ENOENT || errno == ECONNREFUSED
                        ? "the process holding it does not accept commands (it has no control socket, or turned it off)"
                        : "its control socket \(path) does not answer: \(String(cString: strerror(errno)))"
                    throw ControlError(kind: "databaseLocked", message: "another process holds the database in \(directory); \(reason)")
                }
            }
        } catch {
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        reader = ControlLineReader(descriptor: descriptor)
    }

    deinit { close(descriptor) }

    /// Sends `request` and decodes its reply as `T`; a failure there is thrown as `ControlError`
    /// (or as the `CairnError` it was). Progress reports of a long request go to `progress`.
    public func call<T: Decodable>(_ request: ControlRequest, as type: T.Type = T.self, progress: ProgressHandler? = nil) throws -> T {
        try stream(request, as: type, progress: progress) { _ in
            throw ControlError(kind: "protocol", message: "a streamed reply to a request that does not stream")
        }
    }

    /// Sends a streaming `request` (an export), hands each chunk of its reply to `receive` as
    /// it arrives, and decodes the result that follows the last one as `T`.
    public func stream<T: Decodable>(_ request: ControlRequest, as type: T.Type = T.self, progress: ProgressHandler? = nil,
                                     receiving receive: ([UInt8]) throws -> Void) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        try ControlFraming.write(try ControlFraming.encode(ControlEnvelope(request: request)), to: descriptor)
        while true {
            guard let line = try reader.next() else {
                throw ControlError(kind: "io", message: "the process holding \(directory) closed the control connection before answering")
            }
            switch ControlFraming.interim(line) {
            case nil:
                return try ControlFraming.decodeReply(line, as: T.self)
            case let .progress(report):
                progress?(report)
            case let .chunk(length):
                guard let bytes = try reader.bytes(length) else {
                    throw ControlError(kind: "io", message: "the process holding \(directory) closed the control connection mid-chunk")
                }
                try receive(bytes)
            }
        }
    }
}

extension RemoteDatabase: ImportTarget {
    public func importSettings(for collection: String) async throws -> ImportSettings {
        try call(.importSettings(collection: collection))
    }

    public func validate(_ objects: [NewObject], collection: String, tenant: String?) async throws {
        _ = try call(.validate(collection: collection, tenant: tenant, objects: ObjectBatch(objects)), as: Int.self)
    }

    public func put(_ objects: [NewObject], into collection: String, tenant: String?) async throws {
        _ = try call(.put(collection: collection, tenant: tenant, objects: ObjectBatch(objects)), as: Int.self)
    }

    public func takeSafetySnapshot(before operation: String) async throws -> SnapshotInfo? {
        try call(.safetySnapshot(before: operation))
    }
}
