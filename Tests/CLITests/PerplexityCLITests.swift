import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct PerplexityCLITests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistralReproducesTransformersPerplexity() throws {
        let eval = try JSONParser.parse(try readFile(Fixtures.shared("checkpoints/tiny-mistral/eval.json")))
        let expected = eval["teacher_ppl"]!.doubleValue!
        let r = try T2RBinary.run(["perplexity", "--model", Fixtures.shared("checkpoints/tiny-mistral"),
                                   "--tokens", Fixtures.shared("data/corpus/valid.mistral-v1.u16"),
                                   "--context", "512", "--stride", "512", "--max-tokens", "4096", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser.parse(r.stdout)
        let ppl = v["ppl"]!.doubleValue!
        // 4 significant digits.
        #expect(abs(ppl - expected) / expected < 5e-5, "t2r \(ppl) vs transformers \(expected)")
        #expect(v["tokens_scored"]?.intValue == 4088)
        for key in ["mean_nll", "stderr", "tokens_per_second"] { #expect(v[key]?.doubleValue != nil, "\(key)") }
    }

    @Test func usageErrors() throws {
        let r = try T2RBinary.run(["perplexity", "--model", "x"])
        #expect(r.status == 64 && r.stderr.contains("exactly one of --text or --tokens"))
        let r2 = try T2RBinary.run(["perplexity", "--model", "x", "--tokens", "y.u16", "--context", "8", "--stride", "9"])
        #expect(r2.status == 64 && r2.stderr.contains("must not exceed"))
    }
}

@Suite struct StudentCLITests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func convertedStudentReproducesFlaPerplexity() throws {
        let eval = try JSONParser.parse(try readFile(Fixtures.shared("checkpoints/tiny-mistral/eval.json")))
        let expected = eval["gsa_ppl"]!.doubleValue!
        let dir = Fixtures.temporaryDirectory()
        let c = try T2RBinary.run(["convert", "--teacher", Fixtures.shared("checkpoints/tiny-mistral"), "--out", dir,
                                   "--init-tensors", Fixtures.shared("checkpoints/tiny-mistral/golden.safetensors"), "--dtype", "f32"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("57 copied, 6 created, 6 from --init-tensors"))
        let r = try T2RBinary.run(["perplexity", "--model", dir, "--tokens", Fixtures.shared("data/corpus/valid.mistral-v1.u16"),
                                   "--context", "512", "--stride", "512", "--max-tokens", "4096", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let ppl = try JSONParser.parse(r.stdout)["ppl"]!.doubleValue!
        #expect(abs(ppl - expected) / expected < 5e-5, "t2r \(ppl) vs fla \(expected)")
    }
}

@Suite struct SmolLM2PerplexityCLITests {
    @Test(.enabled(if: Fixtures.sharedAvailable && Fixtures.smollm2Available,
                   Comment(rawValue: "\(Fixtures.sharedMissingReason); or \(Fixtures.smollm2MissingReason)")))
    func perplexityMatchesTheFloat64Reference() throws {
        // smollm2-golden: 4 disjoint windows of 512 Persuasion tokens, 511 scored each: PPL 39.2842898673.
        let r = try T2RBinary.run(["perplexity", "--model", Fixtures.smollm2GGUF,
                                   "--tokens", Fixtures.shared("checkpoints/smollm2-golden/persuasion.smollm2.u32"),
                                   "--context", "512", "--stride", "512", "--max-tokens", "2048", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let v = try JSONParser.parse(r.stdout)
        let ppl = v["ppl"]!.doubleValue!
        #expect(abs(ppl - 39.2842898673) / 39.2842898673 < 5e-5, "t2r \(ppl) vs reference 39.2842898673")
        #expect(v["tokens_scored"]?.intValue == 2044)
    }
}
