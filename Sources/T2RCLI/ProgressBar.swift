// A progress bar on stderr: redrawn in place on a terminal, printed at most every few seconds
// otherwise (so CI logs stay readable). Shows done/total, a rate and the ETA.
import Foundation
import Training

final class ProgressBar {
    let console: Console
    let label: String
    let total: Int
    let unit: String
    private let start = monotonicSeconds()
    private var lastDraw = 0.0
    private var finished = false

    init(console: Console, label: String, total: Int, unit: String) {
        self.console = console
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
    }

    /// Updates the bar; `rateCount` is what the rate counts (e.g. tokens), `extra` is appended text.
    func update(_ done: Int, rateCount: Int? = nil, extra: String = "") {
        let now = monotonicSeconds()
        let isLast = done >= total
        let interval = console.stderrIsTerminal ? 0.2 : 10.0
        guard isLast || now - lastDraw >= interval else { return }
        lastDraw = now
        let elapsed = now - start
        let frac = Double(done) / Double(total)
        let width = 28
        let filled = Int(frac * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let rate = Double(rateCount ?? done) / max(elapsed, 1e-9)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : .infinity
        var line = "\(label) [\(bar)] \(done)/\(total) \(Format.fixed(rate, rate < 10 ? 2 : 0)) \(unit)/s"
        line += isLast ? " in \(Format.duration(elapsed))" : " ETA \(Format.duration(eta))"
        if !extra.isEmpty { line += " " + extra }
        if console.stderrIsTerminal {
            console.err("\r\u{1B}[2K" + line, terminator: isLast ? "\n" : "")
        } else {
            console.err(line)
        }
        if isLast { finished = true }
    }
}
