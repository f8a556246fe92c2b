import Foundation

/// Runs the `cairn` executable built next to the test bundle, as a child process.
public struct CLIRunner: Sendable {
    /// The result of one run.
    public struct Result: Sendable {
        /// The exit status.
        public var status: Int32
        /// Everything written to standard output.
        public var stdout: String
        /// Everything written to standard error.
        public var stderr: String
    }

    /// The path of the `cairn` binary (`$CAIRN_BINARY`, or next to the running test bundle).
    public let executable: String
    /// The data directory every command gets as `--data`.
    public let dataDirectory: String

    /// A runner whose commands use `dataDirectory` (passed as `--data`).
    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        if let explicit = ProcessInfo.processInfo.environment["CAIRN_BINARY"] {
            executable = explicit
        } else {
            var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            // On macOS the test binary sits inside an .xctest bundle.
            while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("cairn").path), folder.path != "/" {
                folder.deleteLastPathComponent()
            }
            executable = folder.appendingPathComponent("cairn").path
        }
    }

    /// A runner of another program (`executable`), for what a test does beside `cairn`.
    public init(executable: String, dataDirectory: String = "") {
        self.executable = executable
        self.dataDirectory = dataDirectory
    }

    /// Starts `cairn --data DIR <arguments>` without waiting for it; `environment` adds variables.
    public func start(_ arguments: [String], environment: [String: String] = [:]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments + ["--data", dataDirectory]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `cairn <arguments> --data DIR` to the end (`--data` is left out when `passingData` is
    /// false), with `input` on its standard input (none when nil), in `workingDirectory` (this
    /// process's when nil), with `environment` added to this process's.
    public func run(_ arguments: [String], environment: [String: String] = [:], passingData: Bool = true, input: Data? = nil,
                    workingDirectory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let workingDirectory { process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory) }
        process.arguments = arguments + (passingData ? ["--data", dataDirectory] : [])
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            // Written from another thread: a large input would otherwise fill the pipe while
            // nobody reads the child's output.
            let writer = stdin.fileHandleForWriting
            Thread.detachNewThread {
                writer.write(input)
                try? writer.close()
            }
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}
