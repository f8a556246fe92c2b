import Foundation

/// Milliseconds since the epoch, the engine's time unit.
enum Clock {
    static func milliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
