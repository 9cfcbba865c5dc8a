// The CLI's only output channel: stdout for results, stderr for progress and errors. The library
// never prints; commands format what it returns.
import Foundation
import Reporting

final class Console: @unchecked Sendable {
    private let lock = NSLock()

    func out(_ s: String, terminator: String = "\n") {
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardOutput.write((s + terminator).data(using: .utf8)!)
    }

    func err(_ s: String, terminator: String = "\n") {
        lock.lock(); defer { lock.unlock() }
        FileHandle.standardError.write((s + terminator).data(using: .utf8)!)
    }

    /// True when stderr is a terminal (progress bars redraw in place only then).
    let stderrIsTerminal = isatty(2) != 0
}

/// Number formatting helpers.
enum Format {
    /// 20909312 -> "20,909,312"
    static func grouped(_ n: Int) -> String { ReportFormat.grouped(n) }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    /// Significant-digit formatting, e.g. 84.549 with 5 digits.
    static func sig(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)g", x) }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }

    static func duration(_ seconds: Double) -> String {
        if !seconds.isFinite { return "--:--" }
        let s = Int(seconds.rounded())
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}

/// Natural ordering: "layers.2" < "layers.10".
func naturalLess(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: [.numeric]) == .orderedAscending
}

/// A plain-text table with left/right aligned columns.
struct TextTable {
    var header: [String]
    var rightAligned: Set<Int> = []
    var rows: [[String]] = []

    func render() -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let padding = String(repeating: " ", count: widths[i] - c.count)
                return rightAligned.contains(i) ? padding + c : c + padding
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = self
        while s.hasSuffix(" ") { s.removeLast() }
        return s
    }
}
