// `t2r generate` and `t2r logits` end to end: a synthetic Mistral teacher with the toy SentencePiece
// tokenizer, and the GSA student `t2r convert` makes from it; SmolLM2 answering a question when the GGUF
// is present.
import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct GenerateCLITests {
    /// A teacher directory (config, weights, toy tokenizer.json) and the converted student.
    static let models: (teacher: String, student: String)? = {
        let dir = Fixtures.temporaryDirectory("t2r-generate-cli")
        do {
            try SyntheticCheckpoint.write(to: "\(dir)/teacher", vocab: 1512, hidden: 24, intermediate: 40, layers: 2, heads: 6, kvHeads: 2, seed: 3)
            let tok = try readFile(Fixtures.fixture("tokenization/toy-sp/tokenizer.json"))
            try writeFileAtomically("\(dir)/teacher/tokenizer.json", bytes: tok)
            let c = try T2RBinary.run(["convert", "--teacher", "\(dir)/teacher", "--out", "\(dir)/student", "--num-slots", "8"])
            guard c.status == 0 else {
                Issue.record("convert failed: \(c.stderr)")
                return nil
            }
            return ("\(dir)/teacher", "\(dir)/student")
        } catch {
            Issue.record("cannot write the synthetic checkpoints: \(error)")
            return nil
        }
    }()

    @Test(arguments: ["teacher", "student"])
    func greedyGenerationStreamsAndReportsStats(_ which: String) throws {
        let m = try #require(Self.models)
        let path = which == "teacher" ? m.teacher : m.student
        let args = ["generate", "--model", path, "--prompt", "It was a truth", "--max-tokens", "12", "--temperature", "0", "--ignore-eos"]
        let r = try T2RBinary.run(args)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("It was a truth") && r.stdout.hasSuffix("\n"))
        #expect(r.stdout.count > "It was a truth\n".count, "no text generated: \(r.stdout.debugDescription)")
        #expect(r.stderr.contains("generated   12 tokens, 11 decode steps"), "\(r.stderr)")
        #expect(r.stderr.contains("sampling    greedy"))
        #expect(r.stderr.contains(which == "teacher" ? "KV cache" : "recurrent state"), "\(r.stderr)")
        let again = try T2RBinary.run(args + ["--no-echo"])
        #expect(again.status == 0)
        #expect("It was a truth" + again.stdout == r.stdout, "--no-echo prints the same continuation")
    }

    @Test func samplingIsReproducibleBySeed() throws {
        let m = try #require(Self.models)
        func run(_ seed: String) throws -> String {
            let r = try T2RBinary.run(["generate", "--model", m.student, "--prompt", "Emma", "--max-tokens", "16",
                                       "--temperature", "1.5", "--top-p", "0.9", "--seed", seed, "--ignore-eos"])
            #expect(r.status == 0, "\(r.stderr)")
            return r.stdout
        }
        let a = try run("1"), b = try run("1"), c = try run("2")
        #expect(a == b)
        #expect(a != c)
    }

    @Test func logitsFileMatchesTheModel() throws {
        let m = try #require(Self.models)
        let dir = Fixtures.temporaryDirectory()
        let ids = [1, 300, 45, 999, 1200, 7, 7, 64]
        try TokenIDFileWriter.write(ids, to: "\(dir)/ids.u16")
        let r = try T2RBinary.run(["logits", "--model", m.student, "--tokens", "\(dir)/ids.u16", "--out", "\(dir)/l.safetensors"])
        #expect(r.status == 0, "\(r.stderr)")
        let f = try SafetensorsFile(path: "\(dir)/l.safetensors")
        #expect(try f.loadIntegers("input_ids") == ids)
        let logits = try f.loadFloat32("logits")
        #expect(logits.shape == [ids.count, 1512])
        let values = logits.toArray()
        #expect(values.allSatisfy { $0.isFinite })
        // A prefix gives the same rows (causality; the chunked form over 5 vs 8 tokens).
        let p = try T2RBinary.run(["logits", "--model", m.student, "--tokens", "\(dir)/ids.u16", "--max-tokens", "5", "--out", "\(dir)/p.safetensors"])
        #expect(p.status == 0, "\(p.stderr)")
        let prefix = try SafetensorsFile(path: "\(dir)/p.safetensors").loadFloat32("logits").toArray()
        let c = compare("prefix logits", prefix, Array(values.prefix(prefix.count)), atol: .infinity, rtol: 0)
        #expect(c.relativeToMax < 1e-5, "\(c)")
    }

    @Test func usageErrors() throws {
        let m = try #require(Self.models)
        for (extra, message) in [(["--top-p", "0"], "--top-p must be in (0, 1]"), (["--temperature", "-1"], "--temperature must be ≥ 0"),
                                 (["--seed", "x"], "--seed expects")] {
            let r = try T2RBinary.run(["generate", "--model", m.teacher, "--prompt", "a"] + extra)
            #expect(r.status == 64 && r.stderr.contains(message), "\(extra): \(r.stderr)")
        }
        let noPrompt = try T2RBinary.run(["generate", "--model", m.teacher])
        #expect(noPrompt.status == 64 && noPrompt.stderr.contains("--prompt"))
        let l = try T2RBinary.run(["logits", "--model", m.teacher, "--tokens", "x.u16", "--out", "x.bin"])
        #expect(l.status == 64 && l.stderr.contains(".safetensors"))
    }

    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smolLM2AnswersAndStopsAtEndOfSequence() throws {
        let prompt = "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
        let r = try T2RBinary.run(["generate", "--model", Fixtures.smollm2GGUF, "--prompt", prompt, "--temperature", "0", "--no-echo"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "The capital of France is Paris.\n")
        #expect(r.stderr.contains("stopped     end of sequence (id 2)"), "\(r.stderr)")
    }
}

/// Writes ids as little-endian uint16.
enum TokenIDFileWriter {
    static func write(_ ids: [Int], to path: String) throws {
        var bytes: [UInt8] = []
        for i in ids { bytes += [UInt8(i & 0xFF), UInt8(i >> 8)] }
        try writeFileAtomically(path, bytes: bytes)
    }
}
