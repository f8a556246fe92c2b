import Cairn
import Foundation
import Synchronization

/// A one-line progress bar on standard error for long work (imports, backups, restores,
/// checks): share done, what is done of what, rate and time left. Drawn only on a terminal
/// (and never with --json), at most four times a second; `finish()` clears it.
final class ProgressBar: Sendable {
    private struct State {
        var lastDrawn: ContinuousClock.Instant?
        var drawn = false
    }

    private let label: String
    private let unit: String
    private let enabled: Bool
    private let started = ContinuousClock.now
    private let state = Mutex(State())

    /// A bar for `label` counting `unit` (files, packs) when standard error is a terminal.
    init(_ label: String, unit: String = "files", json: Bool) {
        self.label = label
        self.unit = unit
        enabled = !json && Output.stderrIsTerminal
    }

    /// The handler to give a repository operation, or nil when nothing is drawn.
    var handler: ProgressHandler? {
        guard enabled else { return nil }
        let unit = unit
        return { [self] (progress: TransferProgress) in
            self.update(done: progress.bytes, total: progress.totalBytes,
                        detail: "\(progress.files)/\(progress.totalFiles) \(unit)", last: progress.files >= progress.totalFiles)
        }
    }

    /// Draws `done` of `total` bytes, with `detail` (what else is counted).
    func update(done: Int, total: Int, detail: String, last: Bool = false) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = state.withLock { state in
            if let drawn = state.lastDrawn, now - drawn < .milliseconds(250), !last, done < total { return false }
            state.lastDrawn = now
            state.drawn = true
            return true
        }
        guard due else { return }
        let share = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let rate = Double(done) / max((now - started).milliseconds / 1000, 0.001)
        let left = rate > 0 ? Double(max(0, total - done)) / rate : 0
        let width = 24, filled = Int(share * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        Output.note("\r\u{1B}[K\(label) [\(bar)] \(Int(share * 100))%  \(detail)  \(Output.bytes(done)) of \(Output.bytes(total))  "
                    + "\(Output.bytes(Int(rate)))/s  ETA \(Int(left.rounded())) s")
    }

    /// Clears the bar.
    func finish() {
        if state.withLock({ $0.drawn }) { Output.note("\r\u{1B}[K") }
    }
}
