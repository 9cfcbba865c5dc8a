import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct CompareCLITests {
    let teacher = Fixtures.fixture("gguf/tiny_llama.gguf")
    let text = Fixtures.repo("data/austen/persuasion.txt")

    @Test func aModelComparedWithItselfAgreesCompletely() throws {
        let r = try T2RBinary.run(["compare", "--teacher", teacher, "--student", teacher, "--text", text, "--max-tokens", "400",
                                   "--context", "128", "--decode-contexts", "16,64", "--decode-tokens", "2", "--json", "--threads", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser.parse(r.stdout)
        let overall = try #require(v["overall"])
        #expect(overall["kl"]!.doubleValue! < 1e-5 && overall["top1_agreement"]?.doubleValue == 1 && overall["ppl_ratio"]?.doubleValue == 1)
        #expect(v["decode"]?["teacher"]?.arrayValue?.map { $0["context"]?.intValue } == [16, 64])
        // The teacher's perplexity is what `t2r perplexity` reports on the same windows.
        let p = try T2RBinary.run(["perplexity", "--model", teacher, "--text", text, "--max-tokens", "400", "--context", "128",
                                   "--stride", "128", "--json"])
        #expect(p.status == 0, "\(p.stderr)")
        let ppl = try JSONParser.parse(p.stdout)["ppl"]!.doubleValue!
        let got = overall["teacher"]!["ppl"]!.doubleValue!
        #expect(abs(got - ppl) < 1e-5 * ppl, "compare \(got) vs perplexity \(ppl)")
        #expect(overall["tokens_scored"]?.intValue == 400 - 4)
    }

    @Test func aConvertedStudentGetsATableAndAReport() throws {
        let dir = Fixtures.temporaryDirectory("t2r-compare-cli")
        let c = try T2RBinary.run(["convert", "--teacher", teacher, "--out", "\(dir)/student", "--num-slots", "8"])
        #expect(c.status == 0, "\(c.stderr)")
        try FileSystem.createDirectory("\(dir)/stage1")
        try writeFileAtomically("\(dir)/stage1/metrics.jsonl", text: "{\"step\":1,\"loss\":2.5,\"mse\":2.5}\n{\"step\":2,\"loss\":1.5,\"mse\":1.5}\n")
        let r = try T2RBinary.run(["compare", "--teacher", teacher, "--student", "\(dir)/student", "--text", text, "--text", text,
                                   "--max-tokens", "300", "--context", "100", "--stride", "50", "--decode-contexts", "8",
                                   "--decode-tokens", "2", "--metrics", "\(dir)/stage1", "--out", "\(dir)/report"])
        #expect(r.status == 0, "\(r.stderr)")
        for needle in ["teacher PPL", "persuasion.txt", "all texts", "by position in the window", "1–63", "64–99", "teacher KV cache",
                       "stage1"] {
            #expect(r.stdout.contains(needle), "stdout lacks \(needle):\n\(r.stdout)")
        }
        #expect(r.stderr.contains("comparing") && r.stderr.contains("wrote 7 files"))
        let files = try FileSystem.listDirectory("\(dir)/report")
        #expect(files.contains("report.md") && files.contains("compare.json") && files.contains("loss-1-stage1.svg")
            && files.filter { $0.hasSuffix(".svg") }.count == 5, "\(files)")
        let json = try JSONParser.parse(try readFile("\(dir)/report/compare.json"))
        #expect(json["stride"]?.intValue == 50 && json["texts"]?.arrayValue?.count == 2)
        #expect(json["overall"]!["kl"]!.doubleValue! > 0)
    }

    @Test func mistakesAreUsageOrInputErrors() throws {
        let noText = try T2RBinary.run(["compare", "--teacher", teacher, "--student", teacher])
        #expect(noText.status == 64 && noText.stderr.contains("--text"))
        let stride = try T2RBinary.run(["compare", "--teacher", teacher, "--student", teacher, "--text", text, "--context", "8", "--stride", "9"])
        #expect(stride.status == 64 && stride.stderr.contains("must not exceed"))
        let contexts = try T2RBinary.run(["compare", "--teacher", teacher, "--student", teacher, "--text", text, "--decode-contexts", "128,x"])
        #expect(contexts.status == 64 && contexts.stderr.contains("--decode-contexts"))
        let metrics = try T2RBinary.run(["compare", "--teacher", teacher, "--student", teacher, "--text", text, "--metrics", "/nonexistent"])
        #expect(metrics.status == 65 && metrics.stderr.contains("metrics"))
        // A model with another vocabulary (37 tokens, no tokenizer) cannot be compared with this teacher (288).
        let dir = Fixtures.temporaryDirectory("t2r-compare-vocab")
        try SyntheticCheckpoint.write(to: dir)
        let vocab = try T2RBinary.run(["compare", "--teacher", teacher, "--student", dir, "--text", text, "--max-tokens", "50",
                                       "--decode-contexts", "none"])
        #expect(vocab.status == 65 && vocab.stderr.contains("288") && vocab.stderr.contains("37"), "\(vocab.stderr)")
    }
}
