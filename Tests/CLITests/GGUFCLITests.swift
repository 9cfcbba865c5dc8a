import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

private func gguf(_ name: String) -> String { Fixtures.fixture("gguf/\(name)") }

@Suite struct GGUFCLITests {
    @Test func malformedGGUFFilesExitWith65() throws {
        let dir = gguf("malformed")
        for name in try FileSystem.listDirectory(dir) {
            let r = try T2RBinary.run(["inspect", "\(dir)/\(name)"])
            #expect(r.status == 65, "\(name): status \(r.status), stderr \(r.stderr)")
            #expect(r.stderr.hasPrefix("Error: \(dir)/\(name)"), "\(name): \(r.stderr)")
        }
        let q = try T2RBinary.run(["inspect", gguf("llama_variants/qwen2.gguf")])
        #expect(q.status == 65)
        #expect(q.stderr.contains("unsupported model: GGUF architecture \"qwen2\""))
    }

    @Test func inspectTinyLlamaAndARawGGUF() throws {
        let r = try T2RBinary.run(["inspect", gguf("tiny_llama.gguf")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format        GGUF"))
        #expect(r.stdout.contains("LlamaForCausalLM: 2 layers, hidden 64, 4 heads, 2 kv heads"))
        #expect(r.stdout.contains("model.layers.0.self_attn.q_proj.weight          Q4_0"))
        #expect(r.stdout.contains("21 tensors"))
        #expect(r.stdout.contains("problems      none"))

        let raw = try T2RBinary.run(["inspect", gguf("quant_types.gguf")])
        #expect(raw.status == 0, "\(raw.stderr)")
        #expect(raw.stdout.contains("no general.architecture in the GGUF metadata"))
        #expect(raw.stdout.contains("iq2_xxs  IQ2_XXS  [1, 256]"))
    }

    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func inspectSmolLM2() throws {
        let r = try T2RBinary.run(["inspect", Fixtures.repo("checkpoints/smollm2-135m")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("LlamaForCausalLM: 30 layers, hidden 576, 9 heads, 3 kv heads (GQA, 3 queries per kv head), head_dim 64"))
        #expect(r.stdout.contains("SwiGLU MLP 1536, vocab 49152, rms_norm_eps 1e-05, rope_theta 100000.0"))
        #expect(r.stdout.contains("tied LM head"))
        #expect(r.stdout.contains("272 tensors, 134,515,008 parameters"))
        #expect(r.stdout.contains("problems      none"))
        let lines = r.stdout.split(separator: "\n").filter { $0.hasPrefix("model.") }
        #expect(lines.count == 272)
        #expect(lines.filter { $0.contains(" Q4_1 ") }.count == 210)
        #expect(lines.filter { $0.contains(" F32 ") }.count == 61)
        #expect(r.stdout.contains("model.embed_tokens.weight                        Q8_0   [49152, 576]"))

        let j = try T2RBinary.run(["inspect", "--json", Fixtures.smollm2GGUF])
        let v = try JSONParser.parse(j.stdout)
        #expect(v["config"]?["num_hidden_layers"]?.intValue == 30)
        #expect(v["config"]?["tie_word_embeddings"]?.boolValue == true)
        #expect(v["total_tensors"]?.intValue == 272)
    }

    @Test func exportCommand() throws {
        let parent = Fixtures.temporaryDirectory()
        let out = FileSystem.join(parent, "hf")
        let r = try T2RBinary.run(["export", gguf("tiny_llama.gguf"), "--out", out, "--dtype", "bf16"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("wrote \(out): 21 tensors"))
        #expect(try SafetensorsFile(path: FileSystem.join(out, "model.safetensors")).entries.allSatisfy { $0.dtype == .BF16 })
        let again = try T2RBinary.run(["inspect", out])
        #expect(again.status == 0 && again.stdout.contains("21 tensors"), "\(again.stdout)")

        let exists = try T2RBinary.run(["export", gguf("tiny_llama.gguf"), "--out", out])
        #expect(exists.status == 64)
        #expect(exists.stderr.contains("already exists and is not empty"))
        let badDtype = try T2RBinary.run(["export", gguf("tiny_llama.gguf"), "--out", FileSystem.join(parent, "x"), "--dtype", "f8"])
        #expect(badDtype.status == 64 && badDtype.stderr.contains("--dtype must be f32 or bf16"))
        let noOut = try T2RBinary.run(["export", gguf("tiny_llama.gguf")])
        #expect(noOut.status == 64 && noOut.stderr.contains("missing required option --out"))
        let bad = try T2RBinary.run(["export", gguf("malformed/truncated_data.gguf"), "--out", FileSystem.join(parent, "y")])
        #expect(bad.status == 65)
        #expect(!FileSystem.exists(FileSystem.join(parent, "y")))
    }

    /// `t2r bench` says when OPENBLAS_CORETYPE holds OpenBLAS to AVX2 kernels on an AVX-512 CPU.
    @Test func benchNotesAnOldCoreTypeOnAnAVX512CPU() throws {
        let avx512 = (try readTextFile("/proc/cpuinfo")).split(separator: "\n").first { $0.hasPrefix("flags") }?
            .split(separator: " ").contains("avx512f") ?? false
        let args = ["bench", "dequant", "--gguf", gguf("tiny_llama.gguf"), "--runs", "1"]
        let old = try T2RBinary.run(args, environment: ["OPENBLAS_CORETYPE": "Haswell"])
        #expect(old.status == 0 && old.stderr.contains("OPENBLAS_CORETYPE=Haswell holds OpenBLAS to its Haswell kernels") == avx512,
                "\(old.stderr)")
        let native = try T2RBinary.run(args, environment: ["OPENBLAS_CORETYPE": "SkylakeX"])
        #expect(native.status == 0 && !native.stderr.contains("holds OpenBLAS"), "\(native.stderr)")
    }

    @Test func benchCommand() throws {
        let r = try T2RBinary.run(["bench", "dequant", "--gguf", gguf("tiny_llama.gguf"), "--runs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        for (line, threads) in zip(lines, [1, 2]) {
            let v = try JSONParser.parse(String(line))
            #expect(v["name"]?.stringValue == "dequant")
            #expect(v["threads"]?.intValue == threads)
            #expect((v["seconds"]?.doubleValue ?? -1) >= 0)
            #expect(v["gigabytes_per_second"]?.doubleValue != nil)
            #expect((v["peak_rss_bytes"]?.intValue ?? 0) > 0)
            #expect(v["weights"]?.intValue == 86336)
        }
        let read = try T2RBinary.run(["bench", "read", "--size-mb", "32", "--runs", "1", "--dir", Fixtures.temporaryDirectory()])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(read.stdout.contains("read     1 core"))
        #expect(read.stdout.contains("GB/s (BF16 input)"))
        let unknown = try T2RBinary.run(["bench", "deqant"])
        #expect(unknown.status == 64 && unknown.stderr.contains("did you mean 'dequant'?"))
    }
}
