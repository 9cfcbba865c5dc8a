import Foundation
import Reporting
import TensorCore
import TestSupport
import Testing
import Training

@Suite struct ComparisonReportTests {
    /// A report of a synthetic pair on two texts, with decode points and one run.
    func makeReport() throws -> ComparisonReport {
        let (teacher, student, _) = try makePair()
        var texts: [TextComparison] = []
        for (i, n) in [260, 130].enumerated() {
            let ids = tokens(n, vocab: 41, seed: UInt64(20 + i))
            let s = try ModelComparison.score(teacher: teacher, student: student, tokens: ids,
                                              plan: PerplexityPlan(tokenCount: n, context: 128, stride: 128))
            texts.append(TextComparison(path: "texts/t\(i).txt", tokens: n, scores: s))
        }
        var r = ComparisonReport(teacher: ReportedModel(path: "teacher", kind: "teacher"), student: ReportedModel(path: "st|udent", kind: "GSA student"),
                                 context: 128, stride: 128, maxTokens: nil, texts: texts)
        let ids = tokens(100, vocab: 41, seed: 30)
        r.teacherDecode = DecodeBenchmark.run(model: teacher, tokens: ids, contexts: [8, 64], steps: 2)
        r.studentDecode = DecodeBenchmark.run(model: student, tokens: ids, contexts: [8, 64], steps: 2)
        r.decodeSteps = 2
        r.memory = MemoryPoint.sweep(teacher: teacher, student: student, upTo: 1024)
        let runDir = FileSystem.join(Fixtures.temporaryDirectory("t2r-report-run"), "stage1")
        try FileSystem.createDirectory(runDir)
        try writeFileAtomically(FileSystem.join(runDir, "metrics.jsonl"), text: "{\"step\":1,\"loss\":2,\"mse\":2}\n{\"step\":2,\"loss\":1,\"mse\":1}\n")
        r.runs = [try TrainingCurves.read(runDir)]
        return r
    }

    @Test func writesTheReportTheJSONAndEveryPlot() throws {
        let r = try makeReport()
        let dir = FileSystem.join(Fixtures.temporaryDirectory("t2r-report-out"), "nested/out")
        let written = try r.write(to: dir)
        let names = try FileSystem.listDirectory(dir)
        #expect(names == written.map(FileSystem.baseName).sorted(), "no temporary files are left behind: \(names)")
        #expect(Set(names) == ["compare.json", "report.md", "ppl-by-position.svg", "kl-by-position.svg", "decode-time.svg",
                               "decode-memory.svg", "loss-1-stage1.svg"])
        for name in names where name.hasSuffix(".svg") {
            #expect(SVGCounter.parse(try readTextFile(FileSystem.join(dir, name))) != nil, "\(name) is not well-formed")
        }
        // The loss plot leaves out mse, which equals the loss.
        let loss = try #require(SVGCounter.parse(try readTextFile(FileSystem.join(dir, "loss-1-stage1.svg"))))
        #expect(loss.counts["polyline"] == 1)

        // report.md embeds each plot and shows the same figures as the JSON.
        let md = try readTextFile(FileSystem.join(dir, "report.md"))
        for name in names where name.hasSuffix(".svg") { #expect(md.contains("](\(name))"), "\(name) not embedded") }
        #expect(md.contains("`st|udent`") && md.contains("| all texts |"))
        let json = try JSONParser.parse(try readFile(FileSystem.join(dir, "compare.json")))
        let overall = r.pooled.summary()
        #expect(json["overall"]?["tokens_scored"]?.intValue == overall.tokens)
        #expect(json["overall"]?["student"]?["ppl"]?.doubleValue == overall.student.perplexity)
        #expect(json["texts"]?.arrayValue?.count == 2 && json["by_position"]?.arrayValue?.count == 2)
        #expect(json["decode"]?["teacher"]?.arrayValue?.count == 2 && json["memory"]?.arrayValue?.count == 5)
        #expect(json["runs"]?.arrayValue?.first?["losses"]?["loss"]?["values"]?.arrayValue?.count == 2)
        #expect(md.contains(String(format: "%.3f", overall.ratio)))
    }

    @Test func tablesAgreeAcrossRenderings() throws {
        let r = try makeReport()
        let t = r.perplexityTable()
        #expect(t.rows.count == 3 && t.rows.map(\.count).allSatisfy { $0 == t.header.count })
        let md = t.markdown().split(separator: "\n")
        #expect(md.count == 2 + t.rows.count && md[1] == "|---|---:|---:|---:|---:|---:|---:|")
        let plain = t.plainText().split(separator: "\n")
        #expect(plain.count == 1 + t.rows.count)
        for row in t.rows { #expect(plain.contains { line in row.allSatisfy { line.contains($0) } }) }
        #expect(r.decodeTable().rows.map(\.first) == ["8", "64"])
        let summary = r.terminalSummary()
        #expect(summary.contains("by position in the window") && summary.contains("decoding, median of 2 steps") && summary.contains("stage1"))
    }
}
