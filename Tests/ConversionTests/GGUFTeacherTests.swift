import CheckpointIO
import Conversion
import Foundation
import Models
import TensorCore
import TestSupport
import Testing

private func gguf(_ name: String) -> String { Fixtures.fixture("gguf/\(name)") }

@Suite struct GGUFTeacherTests {
    @Test func nameTableIsABijection() throws {
        let c = TransformerConfig(family: .llama, vocabSize: 10, hiddenSize: 8, intermediateSize: 16, numLayers: 12,
                                  numHeads: 2, numKVHeads: 1, tieWordEmbeddings: false)
        let all = TeacherTensor.all(for: c)
        #expect(Set(all.map(\.ggufName)).count == all.count)
        for t in all {
            #expect(TeacherTensor(ggufName: t.ggufName) == t, "\(t)")
        }
        #expect(TeacherTensor.qProj(11).ggufName == "blk.11.attn_q.weight")
        #expect(TeacherTensor.lmHead.ggufName == "output.weight")
        #expect(TeacherTensor(ggufName: "blk.x.attn_q.weight") == nil)
        #expect(TeacherTensor(ggufName: "rope_freqs.weight") == nil)
        #expect(TeacherTensor.ggufTemplates.map(\.0) == TeacherTensor.huggingFaceTemplates.map(\.0))
    }

    /// HF row h·D + s·D/2 + i comes from GGUF row h·D + 2i + s.
    @Test func unpermutationMovesRowsAsLlamaCppDefines() {
        let heads = 2, d = 4, cols = 3
        let w = Tensor(shape: [heads * d, cols], values: (0..<(heads * d * cols)).map { Float($0 / cols) })  // row index
        let hf = undoLlamaCppRoPEPermutation(w, heads: heads)
        #expect((0..<(heads * d)).map { hf[index: [$0, 0]] } == [0, 2, 1, 3, 4, 6, 5, 7])
        #expect((0..<(heads * d)).map { hf[index: [$0, 2]] } == [0, 2, 1, 3, 4, 6, 5, 7])
        // One head of 8: GGUF rows (x0 y0 x1 y1 x2 y2 x3 y3) → HF (x0 x1 x2 x3 y0 y1 y2 y3).
        let one = undoLlamaCppRoPEPermutation(Tensor(shape: [8, 1], values: (0..<8).map(Float.init)), heads: 1)
        #expect(one.toArray() == [0, 2, 4, 6, 1, 3, 5, 7])
    }

    @Test func configFromMetadataEqualsTheHFTwin() throws {
        let ggufConfig = try TransformerConfig(gguf: GGUFFile(path: gguf("tiny_llama.gguf")))
        var hfConfig = try TransformerConfig.load(huggingFaceConfigAt: gguf("tiny_llama_hf/config.json"))
        hfConfig.declaredDtype = nil
        #expect(ggufConfig == hfConfig)
        #expect(ggufConfig.tieWordEmbeddings == false)
        #expect(ggufConfig.rmsNormEps == 1e-6)
    }

    /// The GGUF teacher (dequantised, q/k un-permuted) equals the HF twin written by the generator, exactly.
    @Test func ggufTeacherEqualsHFLayout() throws {
        let g = try CheckpointLocator.locate(gguf("tiny_llama.gguf")).openTeacher()
        let hf = try CheckpointLocator.locate(gguf("tiny_llama_hf")).openTeacher()
        #expect(g.format == .gguf)
        #expect(g.tensorProblems.isEmpty, "\(g.tensorProblems)")
        #expect(Set(g.store.tensorNames) == Set(hf.store.tensorNames))
        for t in TeacherTensor.all(for: g.config) {
            let a = try g.load(t), b = try hf.load(t)
            #expect(a.shape == b.shape, "\(t)")
            #expect(a.toArray() == b.toArray(), "\(t)")
        }
        // Without the un-permutation the q rows would differ: the test can fail.
        let store = try #require(g.store as? GGUFTeacherStore)
        let rawQ = try store.gguf.loadFloat32("blk.0.attn_q.weight")
        #expect(rawQ.toArray() != (try hf.load(.qProj(0))).toArray())
        #expect(store.ggufName("model.layers.1.mlp.down_proj.weight") == "blk.1.ffn_down.weight")
        #expect(store.info("model.layers.0.self_attn.k_proj.weight")?.storageType == "Q4_1")
    }

    @Test(arguments: [
        ("qwen2", "GGUF architecture \"qwen2\" (general.architecture); t2r reads Llama-architecture GGUF files (\"llama\")"),
        ("mixture_of_experts", "llama.expert_count is 8: mixture-of-experts models are not supported"),
        ("partial_rope", "llama.rope.dimension_count 8 differs from the head dimension 16: partial RoPE is not supported"),
        ("scaled_rope", "llama.rope.scaling.type \"linear\": scaled RoPE is not supported"),
    ])
    func unsupportedModelsAreRefused(_ name: String, _ reason: String) throws {
        let path = gguf("llama_variants/\(name).gguf")
        #expect(throws: CheckpointError.unsupported(path: path, reason: reason)) {
            try CheckpointLocator.locate(path).openTeacher()
        }
    }

    @Test func malformedConfigKeysAreNamed() throws {
        let missing = gguf("llama_variants/missing_block_count.gguf")
        #expect(throws: GGUFError.missingKey(file: missing, key: "llama.block_count")) {
            try TransformerConfig(gguf: GGUFFile(path: missing))
        }
        let mistyped = gguf("llama_variants/block_count_string.gguf")
        #expect(throws: GGUFError.wrongValueType(file: mistyped, key: "llama.block_count", expected: "an integer", found: "STRING 2")) {
            try TransformerConfig(gguf: GGUFFile(path: mistyped))
        }
        let zero = gguf("llama_variants/zero_heads.gguf")
        #expect(throws: ConfigError(file: zero, key: "llama.attention.head_count", problem: "must be a positive integer, found 0")) {
            try TransformerConfig(gguf: GGUFFile(path: zero))
        }
        // No architecture at all: not a model, so `inspect` lists the raw tensors instead.
        let raw = gguf("quant_types.gguf")
        #expect(throws: CheckpointError.notACheckpoint(path: raw, detail: "the GGUF file has no general.architecture: it holds tensors but no model description")) {
            try CheckpointLocator.locate(raw).openTeacher()
        }
    }

    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smollm2Config() throws {
        let t = try TeacherCheckpoint.open(Fixtures.smollm2GGUF)
        let c = t.config
        #expect(c.family == .llama)
        #expect(c.numLayers == 30 && c.hiddenSize == 576 && c.numHeads == 9 && c.numKVHeads == 3 && c.headDim == 64)
        #expect(c.intermediateSize == 1536 && c.vocabSize == 49152)
        #expect(c.ropeTheta == 100_000 && c.rmsNormEps == 1e-5 && Float(c.rmsNormEps) == Float(9.999999747378752e-06))
        #expect(c.tieWordEmbeddings && c.maxPositionEmbeddings == 8192)
        #expect(c.bosTokenId == 1 && c.eosTokenIds == [2] && c.padTokenId == 2)
        #expect(t.store.tensorInfos.count == 272)
        #expect(t.store.tensorInfos.reduce(0) { $0 + $1.elementCount } == 134_515_008)
        #expect(c.parameterCount == 134_515_008)
    }

    /// Rows of SmolLM2's layer-0 q (9 heads) and k (3 kv heads) in HF layout equal numpy's un-permutation
    /// of gguf-py's dequantisation (fixture generator).
    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smollm2QKRowsInHFLayout() throws {
        let t = try TeacherCheckpoint.open(Fixtures.smollm2GGUF)
        let expected = try SafetensorsFile(path: Fixtures.fixture("gguf/smollm2_rows.safetensors"))
        for name in ["model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight"] {
            let w = try t.store.loadFloat32(name)
            let want = try expected.loadFloat32(name)
            for (i, r) in try expected.loadIntegers(name + ".rows").enumerated() {
                #expect(w[r].toArray() == want[i].toArray(), "\(name) row \(r)")
            }
        }
    }
}
