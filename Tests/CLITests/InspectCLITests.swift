import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

@Suite struct InspectCLITests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func inspectTinyMistral() throws {
        let r = try T2RBinary.run(["inspect", Fixtures.shared("checkpoints/tiny-mistral")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("MistralForCausalLM: 6 layers, hidden 256, 8 heads, 2 kv heads"))
        #expect(r.stdout.contains("head_dim 32"))
        #expect(r.stdout.contains("sliding window 512, untied LM head"))
        #expect(r.stdout.contains("57 tensors, 20,909,312 parameters"))
        #expect(r.stdout.contains("problems      none"))
        let tensorLines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("model.") || $0.hasPrefix("lm_head") }
        #expect(tensorLines.count == 57)
        #expect(tensorLines.allSatisfy { $0.contains(" BF16 ") })

        let j = try T2RBinary.run(["inspect", "--json", Fixtures.shared("checkpoints/tiny-mistral")])
        #expect(j.status == 0)
        let v = try JSONParser.parse(j.stdout)
        #expect(v["total_tensors"]?.intValue == 57)
        #expect(v["config"]?["num_key_value_heads"]?.intValue == 2)
        #expect(v["problems"]?.arrayValue?.isEmpty == true)
    }

    @Test func malformedFilesExitWith65() throws {
        let dir = Fixtures.fixture("safetensors/malformed")
        for name in try FileSystem.listDirectory(dir) {
            let r = try T2RBinary.run(["inspect", "\(dir)/\(name)"])
            #expect(r.status == 65, "\(name): status \(r.status), stderr \(r.stderr)")
            #expect(r.stderr.hasPrefix("Error: \(dir)/\(name)"), "\(name): \(r.stderr)")
        }
        let r = try T2RBinary.run(["inspect", Fixtures.fixture("safetensors/sharded/missing_shard")])
        #expect(r.status == 65)
        #expect(r.stderr.contains("shard model-00002-of-00002.safetensors named by the index does not exist"))
    }

    @Test func checkpointWithMissingTensorsReportsEveryProblem() throws {
        // A config that wants 2 layers next to weights that hold only some of them.
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/config.json", text: #"{"model_type": "llama", "vocab_size": 8, "hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 1, "num_attention_heads": 2, "tie_word_embeddings": true}"#)
        let t = Tensor(zeros: [8, 4])
        try SafetensorsWriter.write([
            SafetensorsEntry(name: "model.embed_tokens.weight", tensor: t),
            SafetensorsEntry(name: "model.norm.weight", tensor: Tensor(zeros: [5])),
            SafetensorsEntry(name: "model.layers.3.mlp.up_proj.weight", tensor: Tensor(zeros: [6, 4])),
        ], to: "\(dir)/model.safetensors")
        let r = try T2RBinary.run(["inspect", dir])
        #expect(r.status == 65)
        #expect(r.stdout.contains("missing tensor `model.layers.0.self_attn.q_proj.weight`"))
        #expect(r.stdout.contains("tensor `model.norm.weight`: shape [5] but the config implies [4]"))
        #expect(r.stdout.contains("unexpected tensor `model.layers.3.mlp.up_proj.weight`: layer 3 but num_hidden_layers is 1"))
        #expect(r.stdout.contains("problems      11:"))
    }

    @Test func usageErrorsExitWith64() throws {
        let r = try T2RBinary.run(["inspect"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("missing argument <path>"))
        let r2 = try T2RBinary.run(["inspect", "--jsn", "x"])
        #expect(r2.status == 64)
        #expect(r2.stderr.contains("did you mean '--json'?"))
        let r3 = try T2RBinary.run(["inspct"])
        #expect(r3.status == 64)
        #expect(r3.stderr.contains("did you mean 'inspect'?"))
        let r4 = try T2RBinary.run(["inspect", "/nonexistent/path"])
        #expect(r4.status == 65)
    }

    @Test func everyCommandHasHelp() throws {
        let top = try T2RBinary.run(["--help"])
        #expect(top.status == 0)
        let names = top.stdout.split(separator: "\n").drop { !$0.hasPrefix("COMMANDS:") }.dropFirst()
            .compactMap { line -> String? in
                let t = line.trimmingCharacters(in: .whitespaces)
                return t.isEmpty || t.hasPrefix("See") ? nil : String(t.split(separator: " ")[0])
            }
        #expect(names.contains("inspect"))
        for n in names {
            let h = try T2RBinary.run([n, "--help"])
            #expect(h.status == 0, "\(n) --help")
            #expect(h.stdout.contains("USAGE: t2r \(n)"), "\(n)")
        }
    }
}

@Suite struct InspectStudentCLITests {
    @Test func inspectShowsAConvertedStudent() throws {
        let dir = Fixtures.temporaryDirectory()
        try SyntheticCheckpoint.write(to: "\(dir)/t")
        let c = try T2RBinary.run(["convert", "--teacher", "\(dir)/t", "--out", "\(dir)/s", "--num-slots", "5", "--keep-softmax-layers", "1"])
        #expect(c.status == 0, "\(c.stderr)")
        let r = try T2RBinary.run(["inspect", "\(dir)/s"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("GSAForCausalLM: 2 layers, hidden 24, 6 heads, 2 kv heads, dk 4, dv 4; softmax attention kept in layers [1]"))
        #expect(r.stdout.contains("5 slots"))
        #expect(r.stdout.contains("model.layers.0.attn.f_proj.weight"))
        #expect(r.stdout.contains("problems      none"))
        // The JSON output carries the fla config.
        let j = try T2RBinary.run(["inspect", "--json", "\(dir)/s"])
        #expect(try JSONParser.parse(j.stdout)["config"]?["model_type"]?.stringValue == "gsa")
    }
}
