// The report's tables, built once and rendered two ways: Markdown for report.md and aligned plain text
// for the terminal (the CLI prints `ComparisonReport.terminalSummary()`), so both show the same figures.
import Foundation
import TensorCore

/// A table of formatted cells.
public struct ReportTable: Sendable, Equatable {
    /// Column titles.
    public var header: [String]
    /// Columns aligned right (numbers).
    public var rightAligned: Set<Int>
    /// Rows of cells, one per column.
    public var rows: [[String]]

    /// A table with `header` and `rows`.
    public init(header: [String], rightAligned: Set<Int>, rows: [[String]] = []) {
        self.header = header
        self.rightAligned = rightAligned
        self.rows = rows
    }

    /// A GitHub-flavoured Markdown table ('|' in cells escaped).
    public func markdown() -> String {
        func line(_ cells: [String]) -> String { "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |" }
        let rule = "|" + header.indices.map { rightAligned.contains($0) ? "---:|" : "---|" }.joined()
        return ([line(header), rule] + rows.map(line)).joined(separator: "\n") + "\n"
    }

    /// Columns padded to a common width, two spaces apart.
    public func plainText() -> String {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, c) in cells.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                parts.append(rightAligned.contains(i) ? pad + c : c + pad)
            }
            var s = parts.joined(separator: "  ")
            while s.hasSuffix(" ") { s.removeLast() }
            return s
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n") + "\n"
    }
}

/// Number formats of the report.
public enum ReportFormat {
    /// About four significant digits, never in exponent form: 39.28, 412.7, 5123.
    static func figure(_ x: Double) -> String {
        guard x.isFinite else { return "n/a" }
        return String(format: "%.\(decimals(x))f", x)
    }

    /// "39.28 ± 0.95": the error with the value's decimals.
    static func figure(_ x: Double, _ se: Double) -> String {
        guard x.isFinite else { return "n/a" }
        return se.isFinite ? "\(figure(x)) ± \(String(format: "%.\(decimals(x))f", se))" : figure(x)
    }

    static func decimals(_ x: Double) -> Int {
        let a = abs(x)
        return a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3
    }

    static func fixed(_ x: Double, _ digits: Int) -> String { x.isFinite ? String(format: "%.\(digits)f", x) : "n/a" }

    static func fixed(_ x: Double, _ se: Double, _ digits: Int) -> String {
        guard x.isFinite else { return "n/a" }
        return se.isFinite ? "\(fixed(x, digits)) ± \(fixed(se, digits))" : fixed(x, digits)
    }

    /// Four significant digits (losses, whose scale varies): 0.3127, 4.512, 1.2e-05.
    static func significant(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "n/a" }

    static func percent(_ x: Double) -> String { x.isFinite ? String(format: "%.1f%%", x * 100) : "n/a" }

    /// 4095 → "4,095" (also the CLI's format for counts).
    public static func grouped(_ n: Int) -> String {
        let s = String(abs(n))
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// Bytes in MiB (KiB below one MiB), one decimal.
    static func memory(_ bytes: Int) -> String {
        let b = Double(bytes)
        return b >= 1024 * 1024 ? String(format: "%.1f MiB", b / 1048576) : String(format: "%.1f KiB", b / 1024)
    }

    static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return "n/a" }
        let t = Int(s.rounded())
        return t >= 60 ? String(format: "%d min %02d s", t / 60, t % 60) : "\(t) s"
    }
}

extension ComparisonReport {
    /// One row per text (and one for all texts together when there are several).
    public func perplexityTable() -> ReportTable {
        var t = ReportTable(header: ["text", "tokens", "teacher PPL", "student PPL", "student/teacher", "KL(t‖s) nats", "top-1 agree"],
                            rightAligned: [1, 2, 3, 4, 5, 6])
        func row(_ name: String, _ s: ScoreSummary) -> [String] {
            [name, ReportFormat.grouped(s.tokens), ReportFormat.figure(s.teacher.perplexity, s.teacher.perplexityStandardError),
             ReportFormat.figure(s.student.perplexity, s.student.perplexityStandardError),
             ReportFormat.fixed(s.ratio, s.ratioStandardError, 3), ReportFormat.fixed(s.meanKL, s.klStandardError, 3),
             ReportFormat.percent(s.top1Agreement)]
        }
        for text in texts { t.rows.append(row(FileSystem.baseName(text.path), text.scores.summary())) }
        if texts.count > 1 { t.rows.append(row("all texts", pooled.summary())) }
        return t
    }

    /// All texts' tokens by position inside the window.
    public func positionTable() -> ReportTable {
        var t = ReportTable(header: ["position", "tokens", "teacher PPL", "student PPL", "student/teacher", "KL(t‖s) nats", "top-1 agree"],
                            rightAligned: [1, 2, 3, 4, 5, 6])
        for (b, s) in pooled.summaries(by: buckets) where s.tokens > 0 {
            t.rows.append([b.label, ReportFormat.grouped(s.tokens), ReportFormat.figure(s.teacher.perplexity),
                           ReportFormat.figure(s.student.perplexity), ReportFormat.fixed(s.ratio, 3), ReportFormat.fixed(s.meanKL, 3),
                           ReportFormat.percent(s.top1Agreement)])
        }
        return t
    }

    /// Decode speed and state size per measured context length.
    public func decodeTable() -> ReportTable {
        var t = ReportTable(header: ["context", "teacher ms/token", "teacher tok/s", "student ms/token", "student tok/s", "speed-up",
                                     "teacher KV cache", "student state"], rightAligned: Set(0..<8))
        for (a, b) in zip(teacherDecode, studentDecode) {
            t.rows.append([String(a.context), ReportFormat.fixed(a.millisecondsPerToken, 1), ReportFormat.fixed(a.tokensPerSecond, 1),
                           ReportFormat.fixed(b.millisecondsPerToken, 1), ReportFormat.fixed(b.tokensPerSecond, 1),
                           ReportFormat.fixed(a.millisecondsPerToken / b.millisecondsPerToken, 2) + "×",
                           ReportFormat.memory(a.stateBytes), ReportFormat.memory(b.stateBytes)])
        }
        return t
    }

    /// One row per training run: steps, first and last loss, last held-out perplexity, time.
    public func runsTable() -> ReportTable {
        var t = ReportTable(header: ["run", "steps", "first loss", "last loss", "valid PPL (student)", "time"], rightAligned: [1, 2, 3, 4, 5])
        for r in runs {
            let loss = r.losses.first
            let ppl = r.evaluations.first { $0.name == "valid_ppl" }?.values.last
            t.rows.append([r.name, String(loss?.steps.last ?? 0), loss?.values.first.map(ReportFormat.significant) ?? "n/a",
                           loss?.values.last.map(ReportFormat.significant) ?? "n/a", ppl.map(ReportFormat.figure) ?? "n/a",
                           r.elapsedSeconds.map(ReportFormat.seconds) ?? "n/a"])
        }
        return t
    }

    /// What the CLI prints: the models, the settings and the tables.
    public func terminalSummary() -> String {
        var s = "teacher  \(teacher.path) (\(teacher.kind))\nstudent  \(student.path) (\(student.kind))\n"
        s += "windows  context \(context), stride \(stride)" + (maxTokens.map { ", first \($0) tokens of each text" } ?? "") + "\n\n"
        s += perplexityTable().plainText() + "\n"
        s += "by position in the window (all texts):\n" + positionTable().plainText()
        if !teacherDecode.isEmpty {
            s += "\ndecoding, median of \(decodeSteps) steps per context length, \(threads) thread\(threads == 1 ? "" : "s"):\n"
            s += decodeTable().plainText()
        }
        if !runs.isEmpty { s += "\ntraining runs:\n" + runsTable().plainText() }
        return s
    }
}
