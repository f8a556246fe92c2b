import Foundation

/// Milliseconds since the epoch, the engine's time unit.
package enum Clock {
    package static func milliseconds() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

extension Duration {
    /// The duration in milliseconds.
    package var milliseconds: Double { Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15 }
}
