import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Reporting
import Testing

/// Parses SVG text as XML and counts elements by name (fails the test on a parse error).
final class SVGCounter: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var texts: [String] = []
    var attributes: [String: [[String: String]]] = [:]
    private var inText = false
    private var current = ""

    static func parse(_ svg: String) -> SVGCounter? {
        let c = SVGCounter()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = c
        return p.parse() ? c : nil
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        counts[name, default: 0] += 1
        self.attributes[name, default: []].append(attributes)
        if name == "text" {
            inText = true
            current = ""
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { current += string } }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" {
            texts.append(current)
            inText = false
        }
    }
}

@Suite struct LineChartTests {
    @Test func aChartIsWellFormedSVGWithOneLinePerSeries() throws {
        let chart = LineChart(title: "Loss <stage 1> & \"2\"", note: "note",
                              x: ChartAxis("step"), y: ChartAxis("loss", scale: .logarithmic),
                              series: [ChartSeries("loss", (1...100).map { ChartPoint(Double($0), 10 / Double($0)) }),
                                       ChartSeries("kl & ce", (1...100).map { ChartPoint(Double($0), 5 / Double($0)) }, dashed: true)])
        let svg = chart.svg()
        #expect(svg.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""))
        let c = try #require(SVGCounter.parse(svg), "not well-formed XML:\n\(svg)")
        #expect(c.counts["svg"] == 1 && c.counts["polyline"] == 2)
        #expect(c.counts["circle"] == nil, "no markers on series of 100 points")
        #expect(c.texts.contains("Loss <stage 1> & \"2\"") && c.texts.contains("kl & ce") && c.texts.contains("loss (log scale)"))
        #expect(c.attributes["polyline"]?[1]["stroke-dasharray"] != nil)
        // Every polyline point lies inside the plot frame (the first rect after the background).
        let frame = try #require(c.attributes["rect"]?[1])
        let x0 = Double(frame["x"]!)!, y0 = Double(frame["y"]!)!, w = Double(frame["width"]!)!, h = Double(frame["height"]!)!
        for line in c.attributes["polyline"]! {
            for pair in line["points"]!.split(separator: " ") {
                let xy = pair.split(separator: ",").map { Double($0)! }
                #expect(xy[0] >= x0 - 0.1 && xy[0] <= x0 + w + 0.1 && xy[1] >= y0 - 0.1 && xy[1] <= y0 + h + 0.1)
            }
        }
    }

    @Test func pointsAnAxisCannotShowBreakTheLine() throws {
        let pts = [ChartPoint(1, 1), ChartPoint(2, 2), ChartPoint(3, .nan), ChartPoint(4, 4), ChartPoint(5, 0), ChartPoint(6, 6), ChartPoint(7, 7)]
        let log = try #require(SVGCounter.parse(LineChart(title: "t", x: ChartAxis("x"), y: ChartAxis("y", scale: .logarithmic),
                                                          series: [ChartSeries("s", pts)]).svg()))
        // Runs {1,2}, {4}, {6,7}: two lines; markers at the 5 drawable points.
        #expect(log.counts["polyline"] == 2 && log.counts["circle"] == 5)
        let linear = try #require(SVGCounter.parse(LineChart(title: "t", x: ChartAxis("x"), y: ChartAxis("y"), series: [ChartSeries("s", pts)]).svg()))
        #expect(linear.counts["polyline"] == 2 && linear.counts["circle"] == 6)
    }

    @Test func emptyChartsStillRender() throws {
        let c = try #require(SVGCounter.parse(LineChart(title: "nothing", x: ChartAxis("x"), y: ChartAxis("y"),
                                                        series: [ChartSeries("a\u{1}b", [])]).svg()))
        #expect(c.texts.contains("no data") && c.texts.contains("ab"))
    }

    @Test func linearTicksAreNice() {
        let a = ChartAxis("x").layout([0.3, 9.7])
        #expect(a.ticks.map(\.value) == [0, 2, 4, 6, 8, 10] && a.lower == 0 && a.upper == 10)
        let b = ChartAxis("x", includeZero: true).layout([12, 37])
        #expect(b.ticks.map(\.label) == ["0", "10", "20", "30", "40"])
        let c = ChartAxis("x").layout([0.011, 0.019])
        #expect(c.ticks.map(\.label) == ["0.01", "0.012", "0.014", "0.016", "0.018", "0.02"])
        let flat = ChartAxis("x").layout([5, 5])
        #expect(flat.lower < 5 && flat.upper > 5)
        #expect(a.fraction(0) == 0 && a.fraction(10) == 1 && a.fraction(5) == 0.5)
    }

    @Test func logTicksPickDecadesOrFinerSteps() {
        let wide = ChartAxis("y", scale: .logarithmic).layout([0.02, 50, 3000])
        #expect(wide.ticks.map(\.label) == ["0.1", "1", "10", "100", "1000"])
        let mid = ChartAxis("y", scale: .logarithmic).layout([3, 40])
        #expect(mid.ticks.map(\.label) == ["5", "10", "20", "40"])
        // Data well above the last decade tick gets a tick of its own (the demo's student perplexity).
        let ppl = ChartAxis("y", scale: .logarithmic).layout([32, 85, 156])
        #expect(ppl.ticks.map(\.label) == ["40", "50", "60", "70", "80", "90", "100", "150"])
        let narrow = ChartAxis("y", scale: .logarithmic).layout([830, 1170])
        #expect(narrow.ticks.map(\.value) == [900, 1000, 1100, 1200])
        #expect(narrow.lower < 830 && narrow.upper > 1170)
        #expect(abs(wide.fraction(sqrt(wide.lower * wide.upper)) - 0.5) < 1e-12)
        #expect(!ChartAxis("y", scale: .logarithmic).accepts(0) && ChartAxis("y").accepts(0))
    }

    @Test func namedTicksAreKept() {
        let a = ChartAxis("context", scale: .logarithmic, ticks: [AxisTick(128, "128"), AxisTick(2048, "2k")]).layout([128, 512, 2048])
        #expect(a.ticks.map(\.label) == ["128", "2k"] && a.lower < 128 && a.upper > 2048)
        let cat = ChartAxis("bucket", ticks: [AxisTick(0, "1–63"), AxisTick(1, "64–127")]).layout([0, 1])
        #expect(cat.lower < 0 && cat.upper > 1)
    }

    @Test func labels() {
        #expect(AxisLayout.label(512) == "512" && AxisLayout.label(0.25) == "0.25" && AxisLayout.label(2.5) == "2.5")
        #expect(AxisLayout.label(0.0001234) == "0.000123" && AxisLayout.label(1.5e12) == "1.5e+12")
    }
}
