// A small line chart written as standalone SVG 1.1 (no scripts, no external resources, so browsers and
// rsvg render it as it is): title and optional note, axes with ticks, grid lines and labels (linear or
// log, see ChartAxis.swift), several series with a colour each, optional dashes and point markers, and a
// legend placed in the corner of the plot that covers the fewest points. Points an axis cannot show
// (non-finite, or ≤ 0 on a log axis) break the line.
import Foundation

/// A point of a series.
public struct ChartPoint: Sendable, Equatable {
    /// Horizontal value.
    public let x: Double
    /// Vertical value.
    public let y: Double
    /// The point (x, y).
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// One line of a chart.
public struct ChartSeries: Sendable, Equatable {
    /// Legend text.
    public var name: String
    /// The points, in drawing order.
    public var points: [ChartPoint]
    /// Draw the line dashed.
    public var dashed: Bool
    /// Draw a marker at each point (nil: only when the series has at most 40 points).
    public var markers: Bool?

    /// A series named `name`.
    public init(_ name: String, _ points: [ChartPoint], dashed: Bool = false, markers: Bool? = nil) {
        self.name = name
        self.points = points
        self.dashed = dashed
        self.markers = markers
    }
}

/// A line chart rendered to SVG text.
public struct LineChart: Sendable, Equatable {
    /// Heading above the plot.
    public var title: String
    /// A smaller line under the title.
    public var note: String?
    /// The horizontal axis.
    public var x: ChartAxis
    /// The vertical axis.
    public var y: ChartAxis
    /// The lines, coloured by position in `palette`.
    public var series: [ChartSeries]
    /// Canvas width in pixels.
    public var width = 720
    /// Canvas height in pixels.
    public var height = 440

    /// Line colours, in series order (matplotlib's "tab10" first ones; teacher blue, student red).
    public static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

    /// A chart of `series` on axes `x` and `y`.
    public init(title: String, note: String? = nil, x: ChartAxis, y: ChartAxis, series: [ChartSeries]) {
        self.title = title
        self.note = note
        self.x = x
        self.y = y
        self.series = series
    }

    /// The chart as an SVG document.
    public func svg() -> String {
        let visible = series.map { $0.points.filter { x.accepts($0.x) && y.accepts($0.y) } }
        let all = visible.flatMap { $0 }
        let xl = x.layout(all.map(\.x)), yl = y.layout(all.map(\.y))
        let top = note == nil ? 44.0 : 60.0, bottom = 56.0, right = 24.0
        let yLabelWidth = Double(yl.ticks.map(\.label.count).max() ?? 1) * 7.2
        let left = 34 + yLabelWidth
        let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
        func px(_ v: Double) -> Double { left + xl.fraction(v) * plotW }
        func py(_ v: Double) -> Double { top + (1 - yl.fraction(v)) * plotH }

        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" \
        font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">
        <title>\(escape(title))</title>
        <rect x="0" y="0" width="\(width)" height="\(height)" fill="#ffffff"/>
        <text x="\(f(Double(width) / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(escape(title))</text>

        """
        if let note { s += "<text x=\"\(f(Double(width) / 2))\" y=\"42\" text-anchor=\"middle\" fill=\"#555555\">\(escape(note))</text>\n" }
        // Grid and ticks.
        s += "<g stroke=\"#e3e3e3\" stroke-width=\"1\">\n"
        for t in xl.ticks where t.value >= xl.lower && t.value <= xl.upper {
            s += "<line x1=\"\(f(px(t.value)))\" y1=\"\(f(top))\" x2=\"\(f(px(t.value)))\" y2=\"\(f(top + plotH))\"/>\n"
        }
        for t in yl.ticks where t.value >= yl.lower && t.value <= yl.upper {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(py(t.value)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(t.value)))\"/>\n"
        }
        s += "</g>\n<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#333333\" stroke-width=\"1\"/>\n"
        s += "<g fill=\"#333333\">\n"
        for t in xl.ticks where t.value >= xl.lower && t.value <= xl.upper {
            s += "<line x1=\"\(f(px(t.value)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(px(t.value)))\" y2=\"\(f(top + plotH + 5))\" stroke=\"#333333\"/>\n"
            s += "<text x=\"\(f(px(t.value)))\" y=\"\(f(top + plotH + 19))\" text-anchor=\"middle\">\(escape(t.label))</text>\n"
        }
        for t in yl.ticks where t.value >= yl.lower && t.value <= yl.upper {
            s += "<line x1=\"\(f(left - 5))\" y1=\"\(f(py(t.value)))\" x2=\"\(f(left))\" y2=\"\(f(py(t.value)))\" stroke=\"#333333\"/>\n"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(py(t.value) + 4))\" text-anchor=\"end\">\(escape(t.label))</text>\n"
        }
        s += "</g>\n"
        let scaleNote = { (a: ChartAxis) in a.scale == .logarithmic ? " (log scale)" : "" }
        s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(Double(height) - 12))\" text-anchor=\"middle\">\(escape(x.label + scaleNote(x)))</text>\n"
        s += "<text transform=\"translate(16 \(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(y.label + scaleNote(y)))</text>\n"

        // Series, clipped to the plot area.
        s += "<defs><clipPath id=\"plot\"><rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath></defs>\n"
        s += "<g clip-path=\"url(#plot)\" fill=\"none\" stroke-width=\"2\" stroke-linejoin=\"round\">\n"
        for (i, ser) in series.enumerated() {
            let color = Self.palette[i % Self.palette.count]
            let dash = ser.dashed ? " stroke-dasharray=\"7 4\"" : ""
            for run in runs(ser.points) where !run.isEmpty {
                if run.count == 1 { continue }
                let pts = run.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
                s += "<polyline stroke=\"\(color)\"\(dash) points=\"\(pts)\"/>\n"
            }
            if ser.markers ?? (ser.points.count <= 40) || visible[i].count == 1 {
                for p in visible[i] {
                    s += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"3.5\" fill=\"\(color)\" stroke=\"none\"/>\n"
                }
            }
        }
        s += "</g>\n"
        if all.isEmpty {
            s += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(top + plotH / 2))\" text-anchor=\"middle\" fill=\"#777777\">no data</text>\n"
        }

        // Legend in the emptiest corner.
        if !series.isEmpty {
            let lw = 44 + Double(series.map(\.name.count).max() ?? 0) * 7.0, lh = 10 + 18 * Double(series.count)
            let corners = [(left + plotW - lw - 8, top + 8), (left + 8, top + 8), (left + plotW - lw - 8, top + plotH - lh - 8),
                           (left + 8, top + plotH - lh - 8)]
            let screen = all.map { (px($0.x), py($0.y)) }
            let (lx, ly) = corners.min { a, b in
                let ca = screen.filter { $0.0 >= a.0 && $0.0 <= a.0 + lw && $0.1 >= a.1 && $0.1 <= a.1 + lh }.count
                let cb = screen.filter { $0.0 >= b.0 && $0.0 <= b.0 + lw && $0.1 >= b.1 && $0.1 <= b.1 + lh }.count
                return ca < cb
            }!
            s += "<g>\n<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(lw))\" height=\"\(f(lh))\" fill=\"#ffffff\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n"
            for (i, ser) in series.enumerated() {
                let color = Self.palette[i % Self.palette.count]
                let yy = ly + 16 + 18 * Double(i)
                let dash = ser.dashed ? " stroke-dasharray=\"7 4\"" : ""
                s += "<line x1=\"\(f(lx + 8))\" y1=\"\(f(yy - 4))\" x2=\"\(f(lx + 32))\" y2=\"\(f(yy - 4))\" stroke=\"\(color)\" stroke-width=\"2\"\(dash)/>\n"
                s += "<text x=\"\(f(lx + 38))\" y=\"\(f(yy))\">\(escape(ser.name))</text>\n"
            }
            s += "</g>\n"
        }
        s += "</svg>\n"
        return s
    }

    /// Consecutive runs of drawable points (a point an axis cannot show ends a run).
    func runs(_ points: [ChartPoint]) -> [[ChartPoint]] {
        var out: [[ChartPoint]] = [[]]
        for p in points {
            if x.accepts(p.x) && y.accepts(p.y) { out[out.count - 1].append(p) } else if !out[out.count - 1].isEmpty { out.append([]) }
        }
        return out
    }

    func f(_ v: Double) -> String { String(format: "%.1f", v) }

    /// Text content and attribute values with XML's special characters escaped and control characters dropped.
    func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "\t", "\n", "\r": out.append(" ")
            default:
                // Other control characters are not allowed in XML 1.0.
                if c.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) { out.append(c) }
            }
        }
        return out
    }
}
