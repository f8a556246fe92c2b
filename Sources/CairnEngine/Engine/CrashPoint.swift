import Foundation

/// Named places in multi-step file operations where crash tests make the process kill itself
/// (`CAIRN_CRASH_AT=<name>` in its environment), so every window between two steps is tested
/// deterministically, not only where a timer happens to land. Does nothing otherwise.
enum CrashPoint {
    private static let armed = ProcessInfo.processInfo.environment["CAIRN_CRASH_AT"]

    static func reach(_ name: String) {
        guard let armed, armed == name else { return }
        kill(getpid(), SIGKILL)
    }
}
